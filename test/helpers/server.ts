import { loadConfig } from '../../config/env.js';
import { createLogger } from '../../src/log.js';
import { start, type Running } from '../../src/start.js';

export interface TestServer {
  /** The issuer, e.g. http://localhost:54321 */
  url: string;
  running: Running;
  close(): Promise<void>;
}

/** The real server, in this process, on an ephemeral port, configured from env-style variables. */
export async function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  const config = loadConfig({ PORT: '0', LOG_LEVEL: 'silent', ...env });
  const running = await start(config, createLogger(config.logLevel));
  return { url: running.issuer, running, close: () => running.close() };
}
