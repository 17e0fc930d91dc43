import { config as loadDotenv } from 'dotenv';
import { ConfigError, loadConfig } from '../config/env.js';
import { createLogger } from './log.js';
import { start } from './start.js';

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
  let running;
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

  const stop = async (signal: string) => {
    log.info(`${signal}: shutting down`);
    await running.close();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

await main();
