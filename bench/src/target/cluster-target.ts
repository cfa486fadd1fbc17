/** The Target of nodes spawn-cluster.ts started: clients spread over them, the first node's fields for single-node readers. */
import type { SpawnedCluster } from './spawn-cluster.ts';
import { committingWriters, type Target, type TargetNode } from './target.ts';

export interface ClusterTargetOptions {
  databaseUrl: string;
  redisUrl: string;
  workers: number;
  shardWriters: number;
  /** Stops the nodes and removes what the run made (the caller decides what). */
  stop(): Promise<void>;
}

export function clusterTarget(cluster: SpawnedCluster, o: ClusterTargetOptions): Target {
  const nodes: TargetNode[] = cluster.nodes.map((n) => ({ nodeId: n.nodeId, wsUrl: n.wsUrl, httpUrl: n.httpUrl, serverPid: n.serverPid }));
  const first = nodes[0];
  if (first === undefined) throw new Error('a cluster of no nodes');
  return {
    ...first,
    nodes,
    jwtSecret: cluster.jwtSecret,
    databaseUrl: o.databaseUrl,
    workers: o.workers,
    writers: nodes.length * committingWriters(o.workers, o.shardWriters),
    redis: { url: o.redisUrl, prefix: cluster.redisPrefix },
    spawned: true,
    stop: o.stop,
  };
}
