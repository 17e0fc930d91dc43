import {
  INTERNAL_ERROR, isJSONRPCErrorResponse, isJSONRPCNotification, isJSONRPCRequest, isJSONRPCResultResponse,
  type JSONRPCMessage, type JSONRPCResponse, type MessageExtraInfo, type RequestId, type Transport,
} from '@modelcontextprotocol/server';

/** How long one HTTP request waits for the answers to its JSON-RPC requests before they are given up. */
export const ANSWER_TIMEOUT_MS = 30_000;

/** The JSON-RPC requests of one HTTP request, and their answers as they come, in the order they were sent. */
interface Exchange {
  /** The ids the server sees, unique across every HTTP request in flight. */
  ids: number[];
  /** The ids the client chose, restored on the answers: any client may use any id, at any time. */
  clientIds: RequestId[];
  answers: (JSONRPCResponse | undefined)[];
  unanswered: number;
  resolve(answers: JSONRPCResponse[]): void;
  timer?: NodeJS.Timeout;
}

/**
 * A Transport that lets one long-lived McpServer serve every HTTP request at once, where the SDK's stateless
 * Streamable HTTP transport needs a new server and transport per request (it refuses to be reused, because the
 * clients' request ids would collide). Here each incoming request is renamed with an id of our own before the
 * server sees it, its answer is routed back by that id, and the client's id is put back.
 *
 * Stateless JSON mode: there is no stream to the client, so messages the server starts itself have nowhere to
 * go. Its notifications (progress, logging, list changes) are dropped; its requests (sampling, elicitation,
 * roots, ping) fail at once, so a tool that tries one gets an error instead of waiting for the SDK's timeout.
 */
export class MultiplexingTransport implements Transport {
  onmessage?: Transport['onmessage'];
  onclose?: () => void;
  onerror?: (error: Error) => void;

  // Not 0: the SDK ignores a cancellation whose requestId is falsy, and we cancel timed-out requests by id.
  private nextId = 1;
  private readonly pending = new Map<number, { exchange: Exchange; index: number }>();
  private closed = false;

  constructor(private readonly timeoutMs = ANSWER_TIMEOUT_MS) {}

  /** Requests delivered to the server and not yet answered (for tests: nothing may stay behind). */
  get inFlight(): number {
    return this.pending.size;
  }

  async start(): Promise<void> {}

  /**
   * Delivers the messages of one HTTP request, with its validated token (what tool handlers read as
   * ctx.http.authInfo), and resolves with the answers to its requests, in their
   * order: none when it held only notifications and responses.
   */
  dispatch(messages: readonly JSONRPCMessage[], extra: MessageExtraInfo): Promise<JSONRPCResponse[]> {
    const deliver = this.onmessage;
    if (!deliver) throw new Error('MultiplexingTransport: no server is connected');
    const ids: number[] = [];
    const clientIds: RequestId[] = [];
    const deliveries: JSONRPCMessage[] = [];
    for (const message of messages) {
      if (isJSONRPCRequest(message)) {
        const id = this.nextId++;
        ids.push(id);
        clientIds.push(message.id);
        deliveries.push({ ...message, id });
      } else if (isJSONRPCNotification(message) && message.method !== 'notifications/cancelled') {
        deliveries.push(message);
      }
      // Not delivered: responses (the server never sends this client a request, see send) and cancellations,
      // whose requestId is the client's: ids are not unique across callers, so it could name another caller's
      // request. In stateless mode the request it means was made by another POST, which it never reached anyway.
    }
    const exchange: Exchange = { ids, clientIds, answers: ids.map(() => undefined), unanswered: ids.length, resolve: () => {} };
    const answered = new Promise<JSONRPCResponse[]>((resolve) => {
      exchange.resolve = resolve;
    });
    if (this.closed) {
      this.fail(exchange, 'the MCP server is shut down');
      return answered;
    }
    if (!ids.length) this.finish(exchange);
    else {
      for (const [index, id] of ids.entries()) this.pending.set(id, { exchange, index });
      // Unref'd: the HTTP request waiting for the answer keeps the process alive; the timer need not.
      exchange.timer = setTimeout(() => this.expire(exchange), this.timeoutMs).unref();
    }
    // After the bookkeeping: the server may answer synchronously (an unknown method does).
    for (const message of deliveries) deliver(message, extra);
    return answered;
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) {
      const entry = typeof message.id === 'number' ? this.pending.get(message.id) : undefined;
      // None: the request timed out, or the transport closed, and its HTTP request was answered already.
      if (!entry) return;
      this.pending.delete(entry.exchange.ids[entry.index]!);
      const { exchange, index } = entry;
      exchange.answers[index] = { ...message, id: exchange.clientIds[index]! };
      if (--exchange.unanswered === 0) this.finish(exchange);
    } else if (isJSONRPCRequest(message)) {
      throw new Error(`this server is stateless: it cannot send ${message.method} to the client`);
    }
    // Notifications: dropped, there is no stream to send them on.
  }

  /** Answers every request still waiting with an error, so that no HTTP request hangs, then tells the server. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const exchanges = new Set([...this.pending.values()].map(({ exchange }) => exchange));
    for (const exchange of exchanges) this.fail(exchange, 'the MCP server is shut down');
    this.onclose?.();
  }

  /** Gives up the requests still unanswered, and has the server abort their handlers and forget them. */
  private expire(exchange: Exchange): void {
    const late = exchange.ids.filter((_, index) => !exchange.answers[index]);
    this.fail(exchange, `no answer within ${this.timeoutMs / 1000} s`);
    // The handler sees ctx.mcpReq.signal abort, and the SDK drops its result instead of sending it to us.
    for (const requestId of late) {
      this.onmessage?.({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId, reason: 'timed out' } });
    }
  }

  /** Answers every request of the exchange still unanswered with an internal error, and ends it. */
  private fail(exchange: Exchange, reason: string): void {
    exchange.answers.forEach((answer, index) => {
      if (answer) return;
      this.pending.delete(exchange.ids[index]!);
      exchange.answers[index] = {
        jsonrpc: '2.0',
        id: exchange.clientIds[index]!,
        error: { code: INTERNAL_ERROR, message: `Internal error: ${reason}` },
      };
    });
    exchange.unanswered = 0;
    this.finish(exchange);
  }

  private finish(exchange: Exchange): void {
    clearTimeout(exchange.timer);
    exchange.resolve(exchange.answers as JSONRPCResponse[]);
  }
}
