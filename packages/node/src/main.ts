/**
 * `npm start`: one node from the environment (PROTOCOL.md §1). With no
 * DATABASE_URL / REDIS_URL it finds or starts local services, and with no key on
 * a loopback address it uses this install's own secret (DESIGN.md "Embedded
 * default and real services").
 */
import { dirname } from 'node:path';
import { pino } from 'pino';
import { ConfigError, DEFAULT_DATA_DIR, DEFAULT_HOST, DEFAULT_PORT, loadConfig, type NodeConfig } from './config.ts';
import { startNode } from './node.ts';
import { resolveServices } from './services.ts';

/**
 * For a node whose key the development tools find by themselves (this install's
 * secret, or dev-secret under WHISPR_DEV=1): how to get a token and chat, as lines
 * to paste. Null for a configured key, whose tokens come from elsewhere.
 */
function tryItHint(config: NodeConfig, wsUrl: string): string | null {
  const { jwt } = config;
  if (jwt.installSecret === undefined && !jwt.devSecret) return null;
  // The tools find the dev secret only when told WHISPR_DEV=1 too, as the node was.
  const env = jwt.devSecret ? 'WHISPR_DEV=1 ' : '';
  // The chat's default URL is the node's default address.
  const url = wsUrl === `ws://${DEFAULT_HOST}:${DEFAULT_PORT}/ws` ? '' : ` --url ${wsUrl}`;
  const key = jwt.installSecret !== undefined ? `this install's secret (${jwt.installSecret.path})` : "the well-known 'dev-secret'";
  const chat = `${env}npm run chat -- --as alice${url}`;
  const token = `${env}npm run token -- --as alice`;
  const width = Math.max(chat.length, token.length) + 3;
  return [
    `whispr: tokens are verified with ${key}. To try it, in another terminal in ${dirname(DEFAULT_DATA_DIR)}:`,
    `  ${chat.padEnd(width)}a terminal chat as the user "alice" (and --as bob in a third)`,
    `  ${token.padEnd(width)}a token for "alice", for any other client of ${wsUrl}`,
    '',
  ].join('\n');
}

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
  const install = config.jwt.installSecret;
  if (install !== undefined) {
    logger.info(
      { secretFile: install.path, host: config.host },
      install.created
        ? 'no key configured (WHISPR_JWT_SECRET, WHISPR_JWT_PUBLIC_KEY) on a loopback address: made a random secret for this install, kept for later starts; tokens are verified with it'
        : "no key configured (WHISPR_JWT_SECRET, WHISPR_JWT_PUBLIC_KEY) on a loopback address: tokens are verified with this install's secret",
    );
  }
  const services = await resolveServices(config, logger);
  // Every node runs the maintenance jobs: their ids make each period's run one job cluster-wide.
  const node = await startNode({ ...config, databaseUrl: services.databaseUrl, redisUrl: services.redisUrl, logger, maintenance: {} });
  logger.info({ ws: node.wsUrl, http: node.httpUrl }, 'whispr is running');
  // Plain lines on stderr, beside the JSON log on stdout: they are for the person at the terminal.
  const hint = tryItHint(config, node.wsUrl);
  if (hint !== null) process.stderr.write(hint);

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
