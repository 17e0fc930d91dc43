import type { RequestListener, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createStores } from '../adapters/index.js';
import type { Config } from '../config/env.js';
import { resolveKeys } from '../config/keys.js';
import { STORAGE_RETRY_AFTER_SECONDS } from '../config/storage-outages.js';
import { buildApp, type App, type AppParts } from './app.js';
import { createBoundedServer } from './http/bounded-server.js';
import { drainable } from './http/drain.js';
import type { Logger } from './log.js';
import { LIVE } from './ops/health.js';

export interface Running {
  server: Server;
  issuer: string;
  app: App;
  close(): Promise<void>;
}

/**
 * Until storage is reachable and the app is built, every request gets a 503 in OAuth's format, except the
 * liveness probe: the process is up, it is only not ready.
 */
const starting: RequestListener = (req, res) => {
  const live = req.url === '/healthz';
  res.writeHead(live ? 200 : 503, {
    'content-type': 'application/json', 'retry-after': String(STORAGE_RETRY_AFTER_SECONDS), 'cache-control': 'no-store',
  });
  res.end(JSON.stringify(live ? LIVE : { error: 'temporarily_unavailable', error_description: 'the server is starting' }));
};

export type StartOptions = Pick<AppParts, 'outboundFetch' | 'mcpBearerCheck' | 'wrapStores'>;

/**
 * Listens first, so that an unset ISSUER can name the port actually bound (PORT=0 in tests), and so that a
 * server waiting for its Redis answers 503 rather than refusing connections.
 */
export async function start(config: Config, log: Logger, options: StartOptions = {}): Promise<Running> {
  const server = createBoundedServer(config.http, log, starting);
  const drain = drainable(server, config.shutdown.drainMs);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const issuer = config.issuer ?? `http://localhost:${port}`;

  const stores = await createStores(config, log);
  log.info(`storage: ${stores.description}`);
  const keys = await resolveKeys(config, stores.keys);
  for (const name of keys.generated) {
    const message = `${name} not set: ${stores.keys.description}`;
    if (config.redis) log.info(message);
    else log.warn(message);
  }
  const app = buildApp({ config, issuer, keys, log, stores, ...options });
  server.off('request', starting);
  server.on('request', drain.handle(app.handler));

  return {
    server,
    issuer,
    app,
    close: async () => {
      const drained = drain.close();
      // The 2026-07-28 subscription streams end with their final result, rather than wait for the grace to cut them.
      void app.close();
      await drained;
      await stores.close();
    },
  };
}
