/**
 * `pnpm start`: one node from the environment (PROTOCOL.md §1). With no
 * DATABASE_URL / REDIS_URL it finds or starts local services (DESIGN.md
 * "Embedded default and real services").
 */
import { pino } from 'pino';
import { ConfigError, loadConfig } from './config.ts';
import { startNode } from './node.ts';
import { resolveServices } from './services.ts';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`whispr: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = pino({ level: config.logLevel, base: { node: config.nodeId } });
  if (config.jwt.devSecret) logger.warn('WHISPR_DEV=1: tokens are verified with the well-known secret "dev-secret"; never use this in production');
  const services = await resolveServices(config, logger);
  const node = await startNode({ ...config, databaseUrl: services.databaseUrl, redisUrl: services.redisUrl, logger });
  logger.info({ ws: node.wsUrl, http: node.httpUrl }, 'whispr is running');

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    node
      .stop()
      .then(() => services.stop())
      .then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error({ err }, 'stopping failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  process.stderr.write(`whispr: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
