/** The node's default writers per shard (WHISPR_SHARD_WRITERS). */
export const DEFAULT_SHARD_WRITERS = 2;

/** PostgreSQL connections a node commits on at once: one shard per worker (one in the main thread for 0), each with its writers. */
export const committingWriters = (workers: number, shardWriters = DEFAULT_SHARD_WRITERS): number => Math.max(1, workers) * shardWriters;

/** One node process of the target: where to reach it and which process it is. */
export interface TargetNode {
  /** WHISPR_NODE_ID when known (the bench set it, or the node's registry entry said), else null. */
  nodeId: string | null;
  /** ws://host:port/ws */
  wsUrl: string;
  /** http://host:port */
  httpUrl: string;
  /** The process serving the sockets, for RSS and CPU from /proc; null when unknown. */
  serverPid: number | null;
}

/**
 * What a scenario drives: one node or a cluster of them (`nodes`, in the order
 * clients are spread over them), the secret they share, and what we can measure.
 * `wsUrl`, `httpUrl` and `serverPid` are the first node's: the only one unless
 * the run started a cluster (single-node tools such as the fuzzer read them).
 */
export interface Target extends TargetNode {
  /** Every node of the target, at least one. */
  nodes: readonly TargetNode[];
  jwtSecret: string;
  /** The nodes' database, for verification and pg_stat counters; null when unknown (--url without --database-url). */
  databaseUrl: string | null;
  /** Shard workers of each node (0: one shard in its main thread). */
  workers: number;
  /** PostgreSQL connections the nodes commit on at once (nodes × shards × writers per shard): the ceiling uses as many writers. */
  writers: number;
  /** The Redis URL and key prefix the nodes share, when the bench knows them (it started them). */
  redis: { url: string; prefix: string } | null;
  /** True when the bench started the node (and so may restart it, read its log). */
  spawned: boolean;
  stop(): Promise<void>;
}

/** The node client `index` connects to: clients are spread over the nodes round-robin. */
export function nodeFor(target: Pick<Target, 'nodes'>, index: number): TargetNode {
  const node = target.nodes[index % target.nodes.length];
  if (node === undefined) throw new Error('the target has no nodes');
  return node;
}
