export * from './hash-ring.ts';
export * from './registry.ts';
export * from './registry-redis.ts';
export * from './ring-routing.ts';
