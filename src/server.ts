import { config as loadDotenv } from 'dotenv';
import { ConfigError, loadConfig } from '../config/env.js';
import { createLogger } from './log.js';
import { start, type Running } from './start.js';

/** Entry point: configuration → app → listen, and a clean stop on SIGTERM / SIGINT. */
async function main() {
  loadDotenv({ quiet: true });
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  const log = createLogger(config.logLevel);
  let running: Running | undefined;

  // Stop accepting, let in-flight requests finish (bounded by the grace), close storage, exit.
  const stop = async (signal: string) => {
    log.info(`${signal}: shutting down`);
    // Still waiting for storage: every request so far was answered 503 at once, and nothing is open to close.
    if (!running) process.exit(0);
    const { server, close } = running;
    const { graceMs } = config.shutdown;
    const force = setTimeout(() => {
      log.warn(`requests still running after ${graceMs / 1000} s; closing their connections`);
      server.closeAllConnections();
    }, graceMs).unref();
    await close();
    clearTimeout(force);
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);

  try {
    running = await start(config, log);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    log.fatal(code === 'EADDRINUSE' || code === 'EACCES'
      ? `cannot listen on ${config.host}:${config.port} (${code}); set PORT or HOST`
      : `cannot start: ${(err as Error).message}`);
    process.exit(1);
  }
  log.info(`listening on ${config.host}:${(running.server.address() as { port: number }).port}, issuer ${running.issuer}`);
}

await main();
