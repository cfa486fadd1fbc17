export * from './shard-contract.ts';
export * from './shard.ts';
export * from './shard-thread.ts';
export * from './shard-inline.ts';
export * from './cluster-view.ts';
export * from './ownership-lease.ts';
