import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config/env.js';
import { resolveKeys } from '../config/keys.js';
import { buildApp, type App } from './app.js';
import type { Logger } from './log.js';

export interface Running {
  server: Server;
  issuer: string;
  app: App;
  close(): Promise<void>;
}

/** Listens first, so that an unset ISSUER can name the port actually bound (PORT=0 in tests). */
export async function start(config: Config, log: Logger): Promise<Running> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const issuer = config.issuer ?? `http://localhost:${port}`;

  const keys = resolveKeys(config);
  for (const name of keys.generated) {
    log.warn(`${name} not set: generated for this process only; sessions and tokens end when it stops`);
  }
  const app = buildApp({ config, issuer, keys, log });
  server.on('request', app.koa.callback());
  log.info(`storage: ${app.stores.description}`);

  return {
    server,
    issuer,
    app,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    }),
  };
}
