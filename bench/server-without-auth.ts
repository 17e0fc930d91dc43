import { loadConfig } from '../config/env.js';
import { mcpResource } from '../config/resource-server.js';
import { createLogger } from '../src/log.js';
import { toAuthInfo } from '../src/mcp/caller.js';
import { start } from '../src/start.js';

/**
 * The same server, built from the same parts, with the /mcp bearer check replaced by a fixed caller: the
 * benchmark's measure of what authentication costs.
 */
const config = loadConfig();
const caller = { accountId: 'bench-user', username: 'bench', clientId: 'client1', clientName: 'client1', scopes: ['notes:read', 'notes:write'] };
const auth = toAuthInfo(caller, 'no-token', Math.floor(Date.now() / 1000) + 86_400, mcpResource(config.issuer!));
await start(config, createLogger(config.logLevel), { mcpBearerCheck: { known: () => auth, authenticate: async () => auth } });
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => process.exit(0));
