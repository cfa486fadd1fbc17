/**
 * The services of a local cluster, for the launcher (`pnpm cluster`,
 * cluster/src/launch.ts): loads the configuration from the environment as a
 * node would (so a bad value is reported once, not by every node, and this
 * install's secret is made before N nodes race to make it), finds or starts
 * PostgreSQL and Redis once (services.ts), prints what it found as one JSON
 * line on stdout, and keeps them until told to stop. The launcher passes the
 * URLs to every node, so N nodes share one embedded PostgreSQL instead of each
 * looking for one.
 *
 * It stops what it started on SIGTERM, SIGINT or when its stdin closes (the
 * launcher died without stopping it). Logs go to stderr: stdout is the answer.
 */
import { pino } from 'pino';
import { ConfigError, loadConfig, type NodeConfig } from './config.ts';
import { resolveServices } from './services.ts';

/** What the launcher reads: one line of JSON. */
export interface ClusterServices {
  databaseUrl: string;
  redisUrl: string;
  redisPrefix: string;
  /** How the nodes verify tokens, so the launcher can say how to mint one. */
  key: { kind: 'install'; path: string } | { kind: 'dev' } | { kind: 'secret' } | { kind: 'public-key' };
}

function keyOf(config: NodeConfig): ClusterServices['key'] {
  if (config.jwt.installSecret) return { kind: 'install', path: config.jwt.installSecret.path };
  if (config.jwt.devSecret) return { kind: 'dev' };
  return config.jwt.publicKeyFile !== undefined ? { kind: 'public-key' } : { kind: 'secret' };
}

async function main(): Promise<void> {
  let config: NodeConfig;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`whispr: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = pino({ level: config.logLevel, base: { node: 'services' } }, pino.destination(2));
  const services = await resolveServices(config, logger);
  const answer: ClusterServices = { databaseUrl: services.databaseUrl, redisUrl: services.redisUrl, redisPrefix: config.redisPrefix, key: keyOf(config) };
  process.stdout.write(`${JSON.stringify(answer)}\n`);

  let stopping = false;
  const stop = (why: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ why }, 'stopping the local services');
    services.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'stopping the local services failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.stdin.on('end', () => stop('the launcher went away'));
  process.stdin.resume();
}

main().catch((err: unknown) => {
  process.stderr.write(`whispr: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
