import { AsyncLocalStorage } from 'node:async_hooks';
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/*
 * The id of the request being served, wherever the code that logs sits: the provider's events and the MCP tools
 * are handed the process-wide logger and no request context, yet their lines must name the request.
 */
const requestIds = new AsyncLocalStorage<string>();

/** Runs `work` as part of serving request `requestId`: every line logged meanwhile carries that id. */
export const serving = <T>(requestId: string, work: () => T): T => requestIds.run(requestId, work);

/** JSON lines on stdout. Request bodies, cookies and tokens are never passed to the logger. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino({
    level,
    base: undefined,
    // ioredis puts a failed command's arguments on its error: keys that name sessions, codes and tokens, and the
    // records themselves (password hashes included). The command's name is enough to tell what failed.
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'err.command.args'], remove: true },
    mixin: () => {
      const requestId = requestIds.getStore();
      return requestId ? { requestId } : {};
    },
  }, destination);
}
