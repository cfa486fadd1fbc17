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
