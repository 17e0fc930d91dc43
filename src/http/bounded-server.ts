import { createServer, type RequestListener, type Server } from 'node:http';
import type { Config } from '../../config/env.js';
import type { Logger } from '../log.js';

/**
 * How often Node looks for requests past their headers or request timeout. Its default, 30 s, lets a slow client
 * hold its connection for up to 30 s past either.
 */
const TIMEOUT_CHECK_INTERVAL_MS = 1_000;

/** Refused connections come in floods: one log line a minute says so. */
const DROP_LOG_INTERVAL_MS = 60_000;

/**
 * A node:http server that bounds what slow, idle and numerous clients can hold:
 * - a request's headers must all arrive within headersTimeoutMs, and the whole request with its body within
 *   requestTimeoutMs, or it is answered 408 and its connection closed (slowloris). Both end once the request has
 *   arrived: a response may take as long as it needs, so a long-lived SSE stream is never cut by them;
 * - a keep-alive connection idle for keepAliveTimeoutMs is closed (Node adds a second of margin past the
 *   `Keep-Alive: timeout` it announces, so a client that honours the announcement closes first);
 * - past maxConnections open connections, a new one is closed as soon as it is accepted, without a response.
 * Bun's node:http takes the timeouts from 1.4 on, and ignores the connection limit.
 */
export function createBoundedServer(bounds: Config['http'], log: Logger, listener: RequestListener): Server {
  const server = createServer({
    headersTimeout: bounds.headersTimeoutMs,
    requestTimeout: bounds.requestTimeoutMs,
    keepAliveTimeout: bounds.keepAliveTimeoutMs,
    connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
  }, listener);
  if (bounds.maxConnections > 0) {
    server.maxConnections = bounds.maxConnections;
    let dropped = 0;
    let loggedAt = -Infinity;
    server.on('drop', () => {
      dropped++;
      if (Date.now() - loggedAt < DROP_LOG_INTERVAL_MS) return;
      log.warn(`connection limit reached (HTTP_MAX_CONNECTIONS=${bounds.maxConnections}): new connections are refused; ${dropped} since the last such line`);
      dropped = 0;
      loggedAt = Date.now();
    });
  }
  return server;
}
