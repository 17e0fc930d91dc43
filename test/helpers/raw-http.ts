import { connect, type Socket } from 'node:net';

export interface RawResponse {
  status: number;
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: string;
}

/**
 * One TCP connection to the server spoken to in raw HTTP/1.1, byte by byte if need be: what a proxy's pooled
 * keep-alive connection or a slow client does, and what fetch hides (its pool picks the connections).
 */
export class RawConnection {
  /** Everything the server sent, as text. */
  received = '';
  /** Resolves once the server has closed the connection (or it was reset), with the time since it opened. */
  readonly closed: Promise<number>;
  private readonly opened = Date.now();
  private read = 0;
  private wake: () => void = () => {};

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.received += chunk;
      this.wake();
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => socket.once('close', () => {
      resolve(Date.now() - this.opened);
      this.wake();
    }));
  }

  /** Resolves once connected; rejects if the connection is refused. */
  static open(url: string): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect(Number(new URL(url).port), '127.0.0.1');
      socket.once('connect', () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  get isClosed(): boolean {
    return this.socket.destroyed;
  }

  write(text: string): void {
    this.socket.write(text);
  }

  /** A GET with nothing else than the Host header: HTTP/1.1 keeps the connection alive unless told otherwise. */
  get(path: string, host: string): void {
    this.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
  }

  /** The next response (its body by Content-Length), or an error once the connection closes without one. */
  async response(): Promise<RawResponse> {
    for (;;) {
      const parsed = this.parseNext();
      if (parsed) return parsed;
      if (this.isClosed) throw new Error(`connection closed without a (complete) response; received ${JSON.stringify(this.received.slice(this.read))}`);
      await new Promise<void>((resolve) => { this.wake = resolve; });
    }
  }

  destroy(): void {
    this.socket.destroy();
  }

  private parseNext(): RawResponse | undefined {
    const text = this.received.slice(this.read);
    const end = text.indexOf('\r\n\r\n');
    if (end < 0) return undefined;
    const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = Number(headers['content-length'] ?? 0);
    if (text.length < end + 4 + length) return undefined;
    this.read += end + 4 + length;
    return { status: Number(statusLine!.split(' ')[1]), headers, body: text.slice(end + 4, end + 4 + length) };
  }
}
