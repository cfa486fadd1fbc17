/**
 * Where a run's load goes: by default the nodes this run starts (--nodes N, one
 * unless told: a fresh database they share, their own Redis prefix, own ports,
 * all removed afterwards); with --url a node that is already running.
 */
import { join } from 'node:path';
import { UsageError, type BenchOptions } from '../cli/options.ts';
import { say } from '../cli/progress.ts';
import { createScratchDatabase } from '../target/databases.ts';
import { deleteRedisPrefix } from '../target/redis-cleanup.ts';
import { clusterTarget } from '../target/cluster-target.ts';
import { spawnCluster } from '../target/spawn-cluster.ts';
import { DEFAULT_REDIS_URL } from '../target/spawn-node.ts';
import { committingWriters, type Target, type TargetNode } from '../target/target.ts';
import { scenarios } from '../scenarios/index.ts';

export async function acquireTarget(options: BenchOptions, resultsDir: string): Promise<Target> {
  if (options.url !== null) return remoteTarget(options, options.url);
  const database = await createScratchDatabase(options.scenario);
  const count = options.nodes;
  try {
    const what = count === 1 ? 'a node' : `${count} nodes as one cluster`;
    say(`starting ${what} (${options.workers} workers, ${options.shardWriters} writers per shard${count === 1 ? '' : ' each'}, database ${database.name})`);
    // One node keeps the names a single-node report always had (node.log, profile/).
    const named = (i: number, single: string, many: string): string => (count === 1 ? single : many.replace('#', String(i + 1)));
    const cluster = await spawnCluster({
      count,
      databaseUrl: database.url,
      redisUrl: DEFAULT_REDIS_URL,
      workers: options.workers,
      shardWriters: options.shardWriters,
      logPath: (i) => join(resultsDir, named(i, 'node.log', 'node-#.log')),
      nodeArgs: (i) => (options.profile ? ['--cpu-prof', `--cpu-prof-dir=${join(resultsDir, named(i, 'profile', 'profile/node-#'))}`] : []),
      env: scenarios[options.scenario]?.nodeEnv?.(options) ?? {},
    });
    const stopAndCleanUp = async (): Promise<void> => {
      await cluster.stop();
      await deleteRedisPrefix(DEFAULT_REDIS_URL, cluster.redisPrefix).catch(() => 0);
      if (options.keep) say(`kept database ${database.url}`);
      else await database.drop();
    };
    let stopped: Promise<void> | null = null;
    return clusterTarget(cluster, {
      databaseUrl: database.url,
      redisUrl: DEFAULT_REDIS_URL,
      workers: options.workers,
      shardWriters: options.shardWriters,
      // Idempotent: the run stops it before writing the report, and again in its finally.
      stop: () => (stopped ??= stopAndCleanUp()),
    });
  } catch (err) {
    if (!options.keep) await database.drop().catch(() => undefined);
    throw err;
  }
}

function remoteTarget(options: BenchOptions, url: string): Target {
  if (options.jwtSecret === null) throw new UsageError('--url needs the node\'s JWT secret: --jwt-secret S or WHISPR_JWT_SECRET');
  const parsed = new URL(url);
  if (parsed.pathname === '/' || parsed.pathname === '') parsed.pathname = '/ws';
  const node: TargetNode = {
    nodeId: null,
    wsUrl: parsed.toString().replace(/\?.*$/, ''),
    httpUrl: `${parsed.protocol === 'wss:' ? 'https' : 'http'}://${parsed.host}`,
    serverPid: options.serverPid,
  };
  return {
    ...node,
    nodes: [node],
    jwtSecret: options.jwtSecret,
    databaseUrl: options.databaseUrl,
    workers: options.workers,
    writers: committingWriters(options.workers, options.shardWriters),
    redis: null,
    spawned: false,
    stop: async () => undefined,
  };
}
