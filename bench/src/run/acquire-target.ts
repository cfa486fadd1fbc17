/**
 * Where a run's load goes: by default a node this run starts (fresh database,
 * own Redis prefix, own port, all removed afterwards); with --url a node that is
 * already running.
 */
import { join } from 'node:path';
import { UsageError, type BenchOptions } from '../cli/options.ts';
import { say } from '../cli/progress.ts';
import { createScratchDatabase } from '../target/databases.ts';
import { deleteRedisPrefix } from '../target/redis-cleanup.ts';
import { DEFAULT_REDIS_URL, spawnNode } from '../target/spawn-node.ts';
import { committingWriters, type Target } from '../target/target.ts';
import { scenarios } from '../scenarios/index.ts';

export async function acquireTarget(options: BenchOptions, resultsDir: string): Promise<Target> {
  if (options.nodes !== 1) {
    throw new UsageError(
      `--nodes ${options.nodes}: multi-node runs need node-to-node forwarding and a launcher, which do not exist yet; ` +
        'run one node (the default) or point --url at a node you started',
    );
  }
  if (options.url !== null) return remoteTarget(options, options.url);
  const database = await createScratchDatabase(options.scenario);
  try {
    say(`starting a node (${options.workers} workers, ${options.shardWriters} writers per shard, database ${database.name})`);
    const node = await spawnNode({
      databaseUrl: database.url,
      redisUrl: DEFAULT_REDIS_URL,
      workers: options.workers,
      shardWriters: options.shardWriters,
      logPath: join(resultsDir, 'node.log'),
      nodeArgs: options.profile ? ['--cpu-prof', `--cpu-prof-dir=${join(resultsDir, 'profile')}`] : [],
      env: scenarios[options.scenario]?.nodeEnv?.(options) ?? {},
    });
    const stopNodeAndCleanUp = async (): Promise<void> => {
      await node.stop();
      await deleteRedisPrefix(DEFAULT_REDIS_URL, node.redisPrefix).catch(() => 0);
      if (options.keep) say(`kept database ${database.url}`);
      else await database.drop();
    };
    let stopped: Promise<void> | null = null;
    return {
      ...node,
      // Idempotent: the run stops it before writing the report, and again in its finally.
      stop: () => (stopped ??= stopNodeAndCleanUp()),
    };
  } catch (err) {
    if (!options.keep) await database.drop().catch(() => undefined);
    throw err;
  }
}

function remoteTarget(options: BenchOptions, url: string): Target {
  if (options.jwtSecret === null) throw new UsageError('--url needs the node\'s JWT secret: --jwt-secret S or WHISPR_JWT_SECRET');
  const parsed = new URL(url);
  if (parsed.pathname === '/' || parsed.pathname === '') parsed.pathname = '/ws';
  const httpUrl = `${parsed.protocol === 'wss:' ? 'https' : 'http'}://${parsed.host}`;
  return {
    wsUrl: parsed.toString().replace(/\?.*$/, ''),
    httpUrl,
    jwtSecret: options.jwtSecret,
    databaseUrl: options.databaseUrl,
    serverPid: options.serverPid,
    workers: options.workers,
    writers: committingWriters(options.workers, options.shardWriters),
    spawned: false,
    stop: async () => undefined,
  };
}
