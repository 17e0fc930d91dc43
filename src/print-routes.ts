import { createStores } from '../adapters/index.js';
import { loadConfig } from '../config/env.js';
import { resolveKeys } from '../config/keys.js';
import { buildApp } from './app.js';
import { describeTable } from './http/route-table.js';
import { createLogger } from './log.js';

/*
 * `npm run routes`: the route table of src/routes.ts as the server builds it, one line per route with the steps a
 * request goes through. In memory, whatever the environment says of storage: it only builds the app.
 */
const config = loadConfig({ ...process.env, REDIS_URL: undefined, REDIS_CLUSTER_NODES: undefined, REDIS_SENTINELS: undefined, NODE_ENV: undefined });
const log = createLogger('silent');
const stores = await createStores(config, log);
const app = buildApp({ config, issuer: config.issuer ?? `http://localhost:${config.port}`, keys: await resolveKeys(config, stores.keys), log, stores });
console.log(describeTable(app.routes).join('\n'));
await stores.close();
