import type { DestinationStream } from 'pino';
import { loadConfig } from '../../config/env.js';
import { createLogger } from '../../src/log.js';
import { start, type Running, type StartOptions } from '../../src/start.js';

export interface TestServer {
  /** The issuer, e.g. http://localhost:54321 */
  url: string;
  running: Running;
  close(): Promise<void>;
}

/** Tests sign up and fail logins by the hundred from one address: limits are off unless a test sets them. */
const NO_LIMITS = {
  LIMIT_LOGIN_FAILURES_PER_USERNAME: '0',
  LIMIT_LOGIN_FAILURES_PER_IP: '0',
  LIMIT_REGISTRATIONS_PER_IP: '0',
  LIMIT_CLIENT_REGISTRATIONS_PER_IP: '0',
  LIMIT_TOKEN_ERRORS_PER_CLIENT_AND_IP: '0',
  LIMIT_DEVICE_CODE_FAILURES_PER_IP: '0',
  LIMIT_ANONYMOUS_RECORDS_PER_IP: '0',
};

/** Closing a test server does not wait for the keep-alive connections fetch keeps open (src/http/drain.ts). */
const NO_DRAIN = { SHUTDOWN_DRAIN_MS: '0' };

/**
 * The real server, in this process, on an ephemeral port, configured from env-style variables; its log goes to
 * `logTo` when given (set LOG_LEVEL too), to stdout otherwise.
 */
export async function startTestServer(env: Record<string, string> = {}, options: StartOptions = {}, logTo?: DestinationStream): Promise<TestServer> {
  const config = loadConfig({ PORT: '0', LOG_LEVEL: 'silent', ...NO_LIMITS, ...NO_DRAIN, ...env });
  const running = await start(config, createLogger(config.logLevel, logTo), options);
  return { url: running.issuer, running, close: () => running.close() };
}

export interface UsedTestServer {
  /** The running server; set once the `before` hook of useTestServer has run. */
  readonly server: TestServer;
  /** Its issuer URL (e.g. http://localhost:54321); set once the `before` hook has run. */
  readonly url: string;
}

/**
 * Starts a test server before the tests of the enclosing `describe` and closes it after them: registers the mocha
 * hooks and returns an object whose `server` and `url` can be read from hooks and tests registered after this call.
 */
export function useTestServer(env: Record<string, string> = {}, options: StartOptions = {}): UsedTestServer {
  let started: TestServer | undefined;
  before(async () => {
    started = await startTestServer(env, options);
  });
  after(async () => {
    await started?.close();
    started = undefined;
  });
  return {
    get server() {
      if (!started) throw new Error('useTestServer: the server is not running (read it from a hook or a test)');
      return started;
    },
    get url() {
      return this.server.url;
    },
  };
}
