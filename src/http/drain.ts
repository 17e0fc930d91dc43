import type { RequestListener, Server, ServerResponse } from 'node:http';
import { Server as NetServer } from 'node:net';

/** Once the drain is over, how often connections that have just gone idle are looked for and closed. */
const SWEEP_INTERVAL_MS = 50;

export interface Drain {
  /** `listener`, with its responses told of the drain (see drainable). */
  handle(listener: RequestListener): RequestListener;
  /** Starts the drain; resolves once every connection is closed. */
  close(): Promise<void>;
}

/**
 * A graceful stop for keep-alive clients such as a reverse proxy's connection pool. Closing an idle keep-alive
 * connection races with the client: it may be writing a request on it at that very moment, and that request is
 * lost (a proxy retries none that is not idempotent). So, on close():
 * - new connections are refused at once (the listening socket is closed);
 * - every response not begun yet, in flight or still to come, says `Connection: close` and its connection is
 *   closed after it: the client learns in the response itself not to reuse the connection, so nothing races;
 * - idle connections stay open for `drainMs`, so that a request already on its way on one (the proxy has not
 *   heard of the shutdown yet) is answered, with `Connection: close`, instead of cut. Those still idle then are
 *   closed, as are connections going idle after that (a response begun before the drain, which promised
 *   keep-alive). The race remains only for a client that still sends here `drainMs` after the shutdown began.
 * Node's own http close() closes idle connections at once (Node 19 on): Node's Server is a net.Server, whose close()
 * only stops accepting, and the drain uses that. Bun's is not: there, idle connections are closed at once.
 */
export function drainable(server: Server, drainMs: number): Drain {
  let draining = false;
  /** Responses whose headers may not be written yet: they still can say `Connection: close`. */
  const unfinished = new Set<ServerResponse>();
  const lastOnItsConnection = (res: ServerResponse) => {
    if (!res.headersSent) res.setHeader('connection', 'close');
  };

  return {
    handle: (listener) => (req, res) => {
      if (draining) lastOnItsConnection(res);
      else {
        unfinished.add(res);
        res.once('close', () => unfinished.delete(res));
      }
      listener(req, res);
    },
    close: () => new Promise<void>((resolve) => {
      draining = true;
      for (const res of unfinished) lastOnItsConnection(res);
      unfinished.clear();
      let drainEnd: NodeJS.Timeout | undefined;
      let sweep: NodeJS.Timeout | undefined;
      // node:http's close(): closes the idle connections, and its callback runs once the last connection is gone.
      const endDrain = () => {
        clearTimeout(drainEnd);
        server.off('close', endDrain);
        server.close(() => {
          clearInterval(sweep);
          resolve();
        });
        sweep = setInterval(() => server.closeIdleConnections(), SWEEP_INTERVAL_MS);
      };
      if (drainMs > 0 && server instanceof NetServer) {
        NetServer.prototype.close.call(server);
        // net.Server's 'close': the last connection is gone before the drain is over.
        server.once('close', endDrain);
        drainEnd = setTimeout(endDrain, drainMs);
      } else {
        endDrain();
      }
    }),
  };
}
