/**
 * Boots one node: migrate, start the shard workers, connect the bus, serve,
 * join the cluster. `main.ts` calls it with the environment's configuration;
 * tests call it directly with their own database, Redis prefix and port.
 *
 * The order matters. The bus is up before the node listens, so a forwarded
 * request can be answered as soon as another node routes one here. The node
 * joins the ring last, once it can serve. Stopping reverses it: leave the ring
 * first (the other nodes route elsewhere at their next poll), answer what is in
 * flight, then close sockets, shards and connections.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino, type Logger } from 'pino';
import { ClusterView, InlineShard, OwnershipLease, ThreadShard, type Shard, type ShardWorkerData } from '@whispr/actors';
import { Gateway, createTokenVerifier, type Readiness } from '@whispr/gateway';
import { createPgPool, migrate, RedisKeys } from '@whispr/store';
import { badRequest } from '@whispr/protocol';
import { BusPeerLink, Membership, nodeReport, RedisNodeRegistry, RedisPubSubBus, RingRouting, slotId } from '@whispr/cluster';
import { DEFAULT_NODE_GRACE_MS, type NodeConfig } from './config.ts';
import { registerClusterMetrics } from './cluster-metrics.ts';
import { InternalCalls } from './internal-calls.ts';
import { GrpcApi } from '@whispr/grpc';
import { MaintenanceJobs, NodeJobs, type MaintenanceOptions } from '@whispr/jobs';

export type NodeOptions = Omit<NodeConfig, 'databaseUrl' | 'redisUrl' | 'nodeGraceMs'> & {
  /** Grace before a silent node is dropped from the ring (WHISPR_NODE_GRACE_MS; default 3000). */
  nodeGraceMs?: number;
  databaseUrl: string;
  redisUrl: string;
  logger?: Logger;
  /** Idle time before an actor is evicted (default 10 minutes). */
  actorIdleMs?: number;
  /** Most live actors per shard (default 200,000). */
  maxActorsPerShard?: number;
  /** PostgreSQL connections per shard for reads (default 3; the writers have their own). */
  pgPoolPerWorker?: number;
  /** Retention, archival and usage_metrics runs (jobs/retention/maintenance-jobs.ts); absent: this node runs none (tests start their own). */
  maintenance?: MaintenanceSettings;
};

export type MaintenanceSettings = Pick<MaintenanceOptions, 'archiveInactiveDays' | 'tickMs' | 'retentionBatch'>;

export interface RunningNode {
  readonly nodeId: string;
  /** This run of the node (random per start). */
  readonly incarnation: string;
  readonly port: number;
  /** ws://host:port/ws */
  readonly wsUrl: string;
  /** http://host:port */
  readonly httpUrl: string;
  readonly gateway: Gateway;
  readonly shards: readonly Shard[];
  readonly routing: RingRouting;
  readonly membership: Membership;
  /** Whether this node's shards may serve and claim conversations (kept from the membership below). */
  readonly ownership: OwnershipLease;
  /** Operations run by the node's own components through each conversation's owner (internal-calls.ts). */
  readonly internal: InternalCalls;
  /** The internal gRPC API's port, or null when it is not served (options.grpc absent). */
  readonly grpcPort: number | null;
  /** The maintenance jobs' worker and scheduler on this node, if it runs them. */
  readonly maintenance: MaintenanceJobs | null;
  /** The node's job processors (packages/jobs). */
  readonly jobs: NodeJobs;
  stop(): Promise<void>;
}

export async function startNode(options: NodeOptions): Promise<RunningNode> {
  const logger = options.logger ?? pino({ level: options.logLevel, base: { node: options.nodeId } });
  const graceMs = options.nodeGraceMs ?? DEFAULT_NODE_GRACE_MS;
  await migrate({ databaseUrl: options.databaseUrl, logger });
  const incarnation = randomBytes(8).toString('hex');

  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: 2 });
  redis.on('error', (err) => logger.warn({ err }, 'redis connection error'));
  const keys = new RedisKeys(options.redisPrefix);
  const pgPool = createPgPool({ connectionString: options.databaseUrl, max: 2, applicationName: `whispr ${options.nodeId} gateway`, logger });

  // Shared with every shard: open connections per encoding (the gateway counts them),
  // and the live nodes (this file keeps them from the membership).
  const encodingsInUse = new SharedArrayBuffer(8);
  const clusterView = new ClusterView();
  // The fence's lease: a shard claims (loads) a conversation only while it is valid (actors/ownership-lease.ts).
  const ownership = new OwnershipLease();
  // workers = 0: a single shard whose actors run in this thread.
  const shards = Array.from({ length: Math.max(1, options.workers) }, (_, i): Shard => {
    const workerData: ShardWorkerData = {
      slot: slotId(options.nodeId, i),
      nodeId: options.nodeId,
      incarnation,
      clusterView: clusterView.buffer,
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

  const bus = new RedisPubSubBus({ nodeId: options.nodeId, prefix: options.redisPrefix, redisUrl: options.redisUrl, logger });
  await bus.start();
  const peers = new BusPeerLink({ bus, logger });
  const registry = new RedisNodeRegistry({ redis, keys, logger, heartbeatMs: Math.max(100, Math.floor(graceMs / 4)), lapseMs: graceMs });

  const verifyToken = await createTokenVerifier({
    ...(options.jwt.secret !== undefined ? { secret: options.jwt.secret } : {}),
    ...(options.jwt.publicKeyFile !== undefined ? { publicKeyFile: options.jwt.publicKeyFile } : {}),
  });

  // Membership needs the port the gateway listens on; the routing reads it through this.
  const routingRef: { current: RingRouting | null } = { current: null };
  // GET /cluster: this node's own view of the ring and the bus, once it has one (cluster/src/node-report.ts).
  const clusterReport = { current: (): unknown => ({ nodeId: options.nodeId, incarnation, starting: true }) };
  const readiness = async (): Promise<Readiness> => {
    const [postgres, redisOk] = await Promise.all([
      pgPool.query('SELECT 1').then(() => true, () => false),
      redis.ping().then((r) => r === 'PONG', () => false),
    ]);
    const ring = routingRef.current?.ownsItsSlots() ?? false;
    return { ready: postgres && redisOk && ring && bus.connected, checks: { postgres, redis: redisOk, ring, bus: bus.connected } };
  };

  const gateway = new Gateway({
    host: options.host,
    port: options.port,
    nodeId: options.nodeId,
    incarnation,
    limits: options.limits,
    socketBacklogBytes: options.socketBacklogBytes,
    verifyToken,
    routing: { shards, ownerOf: (key) => routingRef.current?.ownerOf(key) ?? null },
    peers,
    redis,
    keys,
    logger,
    readiness,
    encodingsInUse,
    extraRoutes: { '/cluster': () => clusterReport.current() },
    liveNodes: () => clusterView.liveNodes(),
  });
  const port = await gateway.listen();
  const internal = new InternalCalls(gateway);
  // Every node runs the processors; a job's send goes through the conversation's owner, wherever it is.
  const jobsPg = createPgPool({ connectionString: options.databaseUrl, max: 3, applicationName: `whispr ${options.nodeId} jobs`, logger });
  const jobs = new NodeJobs({
    redisUrl: options.redisUrl,
    redisPrefix: options.redisPrefix,
    logger,
    pg: jobsPg,
    registry: gateway.metrics.registry,
    sendScheduled: (row) => {
      if (row.message_type === 'system') return Promise.reject(badRequest('type', 'a scheduled message is never a system message'));
      return internal.call({ kind: 'user', userId: row.sender_id }, {
        op: 'msg.send', conversation_id: row.conversation_id, client_random: row.client_random, type: row.message_type,
        content: row.content, metadata: row.metadata, scheduled_id: row.id,
      });
    },
  });

  const joined = new Membership({ registry, self: { nodeId: options.nodeId, incarnation, host: options.host, port, slots: shards.map((s) => s.slot) }, graceMs, logger });
  let liveIds = new Set<string>();
  joined.on('ring', (_ring, nodes) => {
    // First: an actor that claimed under the old ring claims again before it serves (fencing).
    ownership.nextGeneration();
    clusterView.write(nodes.map((n) => ({ nodeId: n.nodeId, incarnation: n.incarnation })));
    const now = new Set(nodes.map((n) => n.nodeId));
    const lost = [...liveIds].filter((id) => !now.has(id));
    for (const id of lost) gateway.peerGone(id);
    // A node gone: its users' presence no longer counts (watchers hear them go offline).
    if (lost.length > 0) gateway.nodesChanged();
    liveIds = now;
  });
  const routing = new RingRouting(shards, joined);
  routingRef.current = routing;
  clusterReport.current = () => nodeReport({ incarnation, membership: joined, routing, bus, peers });
  registerClusterMetrics(gateway.metrics.registry, { bus, peers, membership: joined });
  // Redis came back (perhaps restarted, every key gone): be in the registry and presence again at once.
  bus.on('reconnected', () => {
    logger.warn('the bus reconnected to Redis: re-registering and re-announcing presence');
    joined.refresh().catch((err: unknown) => logger.warn({ err }, 're-registering after a Redis reconnect failed'));
    gateway.refreshPresence();
  });
  // Join only once every shard answers (a worker thread takes a moment to load): a
  // request forwarded here from another node is then not kept waiting by the start-up.
  await Promise.all(shards.map((s) => s.ready()));
  await joined.start();
  jobs.start();
  // The lease follows the membership's own: renewed while this node serves, lapsing when its
  // heartbeat is not fresh (others may then take its conversations), revoked when it leaves.
  const renewLease = (): void => {
    if (joined.serving) ownership.renew(joined.lease);
  };
  renewLease();
  const leaseTimer = setInterval(renewLease, Math.max(50, Math.floor(graceMs / 12)));
  leaseTimer.unref();
  let grpc: GrpcApi | null = null;
  const maintenance = options.maintenance === undefined ? null : new MaintenanceJobs({
    ...options.maintenance, redisUrl: options.redisUrl, redisPrefix: options.redisPrefix, databaseUrl: options.databaseUrl,
    logger, calls: internal, registry: gateway.metrics.registry,
  });
  await maintenance?.start();
  logger.info({ port, workers: shards.length, slots: routing.ringSlots.length, incarnation }, 'node ready');

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      // Leave first: the other nodes route this node's conversations elsewhere at their
      // next poll, while what it was handed is answered (DESIGN.md: the old owner stops
      // accepting; the database fences anything later).
      // First, while the owners still answer: a run stops between two batches and is retried later.
      await maintenance?.close().catch((err: unknown) => logger.warn({ err }, 'stopping the maintenance jobs failed'));
      // The gRPC API first, while the ring and the owners can still answer the calls it took.
      await grpc?.stop();
      // Jobs first: a running job's send needs the ring and the gateway; those not started wait in Redis for another node.
      await jobs.stop().catch((err: unknown) => logger.warn({ err }, 'stopping the job processors failed'));
      clearInterval(leaseTimer);
      ownership.revoke();
      await joined.leave().catch((err: unknown) => logger.warn({ err }, 'leaving the ring failed'));
      await gateway.drain();
      await gateway.close();
      await Promise.all(shards.map((s) => s.close()));
      peers.close();
      await bus.close();
      await Promise.all([pgPool.end(), jobsPg.end()]);
      redis.disconnect();
      logger.info('node stopped');
    })();
    return stopping;
  };

  // Last: its calls route through the ring this node has just joined. A port it
  // cannot have stops the node, as the HTTP port would.
  if (options.grpc) {
    try {
      grpc = await GrpcApi.start({ ...options.grpc, owners: internal, pool: pgPool, maxMetadataBytes: options.limits.max_metadata_bytes, logger: logger.child({ component: 'grpc' }) });
    } catch (err) {
      await stop();
      throw err;
    }
  }

  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    nodeId: options.nodeId, incarnation, port, wsUrl: `ws://${host}:${port}/ws`, httpUrl: `http://${host}:${port}`,
    gateway, shards, routing, membership: joined, ownership, internal, jobs, grpcPort: grpc?.port ?? null, maintenance, stop,
  };
}
