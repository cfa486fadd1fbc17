export * from './shard-contract.ts';
export * from './shard-client.ts';
