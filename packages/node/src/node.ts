/**
 * Boots one node: migrate, start the shard workers, join the ring, serve.
 * `main.ts` calls it with the environment's configuration; tests call it
 * directly with their own database, Redis prefix and port.
 */
import { Redis } from 'ioredis';
import { pino, type Logger } from 'pino';
import { InlineShard, OwnershipLease, ThreadShard, type Shard, type ShardWorkerData } from '@whispr/actors';
import { Gateway, createTokenVerifier, type Readiness } from '@whispr/gateway';
import { createPgPool, migrate, RedisKeys } from '@whispr/store';
import { RedisNodeRegistry, RingRouting, slotId } from '@whispr/cluster';
import type { NodeConfig } from './config.ts';
import { LeasedRegistry, MEMBERSHIP_TIMING } from './ownership.ts';

export type NodeOptions = Omit<NodeConfig, 'databaseUrl' | 'redisUrl'> & {
  databaseUrl: string;
  redisUrl: string;
  logger?: Logger;
  /** Idle time before an actor is evicted (default 10 minutes). */
  actorIdleMs?: number;
  /** Most live actors per shard (default 200,000). */
  maxActorsPerShard?: number;
  /** PostgreSQL connections per shard for reads (default 3; the writers have their own). */
  pgPoolPerWorker?: number;
};

export interface RunningNode {
  readonly nodeId: string;
  readonly port: number;
  /** ws://host:port/ws */
  readonly wsUrl: string;
  /** http://host:port */
  readonly httpUrl: string;
  readonly gateway: Gateway;
  readonly shards: readonly Shard[];
  readonly routing: RingRouting;
  /** Whether this node's shards may serve and claim conversations (ownership.ts keeps it). */
  readonly ownership: OwnershipLease;
  stop(): Promise<void>;
}

export async function startNode(options: NodeOptions): Promise<RunningNode> {
  const logger = options.logger ?? pino({ level: options.logLevel, base: { node: options.nodeId } });
  await migrate({ databaseUrl: options.databaseUrl, logger });

  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: 2 });
  redis.on('error', (err) => logger.warn({ err }, 'redis connection error'));
  const keys = new RedisKeys(options.redisPrefix);
  const pgPool = createPgPool({ connectionString: options.databaseUrl, max: 2, applicationName: `whispr ${options.nodeId} gateway`, logger });

  // Open connections per encoding, written by the gateway and read by every shard.
  const encodingsInUse = new SharedArrayBuffer(8);
  // --- Ownership lease (fencing): one for all shards of the node, kept by LeasedRegistry (ownership.ts). ---
  const ownership = new OwnershipLease();
  // workers = 0: a single shard whose actors run in this thread.
  const shards = Array.from({ length: Math.max(1, options.workers) }, (_, i): Shard => {
    const workerData: ShardWorkerData = {
      slot: slotId(options.nodeId, i),
      nodeId: options.nodeId,
      databaseUrl: options.databaseUrl,
      redisUrl: options.redisUrl,
      redisPrefix: options.redisPrefix,
      limits: options.limits,
      logLevel: options.logLevel,
      pgPoolMax: options.pgPoolPerWorker ?? 3,
      writers: options.shardWriters,
      actorIdleMs: options.actorIdleMs ?? 10 * 60_000,
      maxActors: options.maxActorsPerShard ?? 200_000,
      encodingsInUse,
      ownership: ownership.buffer,
    };
    return options.workers === 0 ? new InlineShard({ workerData, logger }) : new ThreadShard({ workerData, logger });
  });

  const registry = new LeasedRegistry({
    registry: new RedisNodeRegistry({ redis, keys, logger, ...MEMBERSHIP_TIMING }),
    lease: ownership, redis, keys, nodeId: options.nodeId, logger, ...MEMBERSHIP_TIMING,
  });
  // --- end of the ownership lease wiring ---
  const routing = new RingRouting(shards, registry, logger);
  const verifyToken = await createTokenVerifier({
    ...(options.jwt.secret !== undefined ? { secret: options.jwt.secret } : {}),
    ...(options.jwt.publicKeyFile !== undefined ? { publicKeyFile: options.jwt.publicKeyFile } : {}),
  });

  const readiness = async (): Promise<Readiness> => {
    const [postgres, redisOk] = await Promise.all([
      pgPool.query('SELECT 1').then(() => true, () => false),
      redis.ping().then((r) => r === 'PONG', () => false),
    ]);
    const ring = routing.ownsItsSlots();
    return { ready: postgres && redisOk && ring, checks: { postgres, redis: redisOk, ring } };
  };

  const gateway = new Gateway({
    host: options.host,
    port: options.port,
    nodeId: options.nodeId,
    limits: options.limits,
    socketBacklogBytes: options.socketBacklogBytes,
    verifyToken,
    routing,
    redis,
    keys,
    logger,
    readiness,
    encodingsInUse,
  });
  const port = await gateway.listen();
  await registry.register({ nodeId: options.nodeId, host: options.host, port, slots: shards.map((s) => s.slot) });
  await routing.refresh();
  routing.start();
  logger.info({ port, workers: shards.length, slots: routing.ringSlots.length }, 'node ready');

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      routing.stop();
      // Stop accepting and answer what is in flight while this node still owns its
      // slots (DESIGN.md invariant 1: the old owner stops before a new one starts).
      await gateway.drain();
      await registry.deregister().catch((err: unknown) => logger.warn({ err }, 'deregistering failed'));
      await gateway.close();
      await Promise.all(shards.map((s) => s.close()));
      await pgPool.end();
      redis.disconnect();
      logger.info('node stopped');
    })();
    return stopping;
  };

  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return { nodeId: options.nodeId, port, wsUrl: `ws://${host}:${port}/ws`, httpUrl: `http://${host}:${port}`, gateway, shards, routing, ownership, stop };
}
