/** The node's default writers per shard (WHISPR_SHARD_WRITERS). */
export const DEFAULT_SHARD_WRITERS = 2;

/** PostgreSQL connections a node commits on at once: one shard per worker (one in the main thread for 0), each with its writers. */
export const committingWriters = (workers: number, shardWriters = DEFAULT_SHARD_WRITERS): number => Math.max(1, workers) * shardWriters;

/** What a scenario drives: one node's addresses, its secret, and what we can measure of it. */
export interface Target {
  /** ws://host:port/ws */
  wsUrl: string;
  /** http://host:port */
  httpUrl: string;
  jwtSecret: string;
  /** The node's database, for verification and pg_stat counters; null when unknown (--url without --database-url). */
  databaseUrl: string | null;
  /** The process serving the sockets, for RSS and CPU from /proc; null when unknown. */
  serverPid: number | null;
  /** Shard workers of the node (0: one shard in its main thread). */
  workers: number;
  /** PostgreSQL connections the node commits on at once (shards × writers per shard): the ceiling uses as many writers. */
  writers: number;
  /** True when the bench started the node (and so may restart it, read its log). */
  spawned: boolean;
  stop(): Promise<void>;
}
