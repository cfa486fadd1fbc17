/**
 * Starts N local node processes that form one cluster (docs/architecture.md §8):
 * the same DATABASE_URL, REDIS_URL, WHISPR_REDIS_PREFIX and JWT secret, each its
 * own PORT and WHISPR_NODE_ID, and waits until each is ready and all of them see
 * the same ring. They start at once: the first migration holds an advisory lock
 * the others wait on (packages/store/src/migrate.ts).
 */
import { say } from '../cli/progress.ts';
import { newJwtSecret, newRedisPrefix, spawnNode, type SpawnedNode, type SpawnOptions } from './spawn-node.ts';
import { waitForCluster, type ClusterState } from './wait-cluster.ts';

export interface ClusterSpawnOptions extends Omit<SpawnOptions, 'logPath' | 'nodeArgs' | 'jwtSecret' | 'redisPrefix' | 'nodeId'> {
  count: number;
  /** The log file of node i (0-based). */
  logPath(index: number): string;
  /** Extra node flags of node i (its own --cpu-prof-dir, say). */
  nodeArgs?(index: number): string[];
}

export interface SpawnedCluster {
  nodes: SpawnedNode[];
  jwtSecret: string;
  redisPrefix: string;
  /** The registry's ring and every node's view once they agreed. */
  state: ClusterState;
  stop(): Promise<void>;
}

export async function spawnCluster(options: ClusterSpawnOptions): Promise<SpawnedCluster> {
  const jwtSecret = newJwtSecret();
  const redisPrefix = newRedisPrefix();
  const started = await Promise.allSettled(
    Array.from({ length: options.count }, (_, i) =>
      spawnNode({ ...options, jwtSecret, redisPrefix, logPath: options.logPath(i), nodeArgs: options.nodeArgs?.(i) ?? [] }),
    ),
  );
  const nodes = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((n) => n.stop()));
  };
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed !== undefined) {
    await stop();
    throw failed.reason;
  }
  try {
    if (nodes.length > 1) say(`waiting until the ${nodes.length} nodes see one ring`);
    const state = await waitForCluster(nodes, { url: options.redisUrl, prefix: redisPrefix });
    return { nodes, jwtSecret, redisPrefix, state, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
