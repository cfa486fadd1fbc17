/**
 * Keeps the node's OwnershipLease (packages/actors/src/ownership-lease.ts) in
 * step with its membership, for the fence of DESIGN.md "Fencing". A temporary
 * home, kept to this one file and a few lines of node.ts: it moves with the
 * membership rewrite, which should renew the lease from its own heartbeats.
 *
 * `LeasedRegistry` wraps the node registry that RingRouting polls and node.ts
 * registers with:
 * - Renewal: twice per heartbeat it reads this node's score in the registry's
 *   sorted set, the very heartbeat time the other nodes judge it by (a node
 *   whose score is older than the lapse is dropped from their rings), and sets
 *   the lease to that time + lapse − a third of the lapse. The margin covers clock
 *   skew between nodes and the time a read takes. No successful heartbeat (Redis
 *   unreachable, this node paused or dropped), no renewal: the lease runs out
 *   before the others may take the conversations.
 * - Generation: when the slots returned by liveNodes differ from the previous
 *   poll's, the ring is about to change (RingRouting builds it from exactly those
 *   slots, right after this returns), so the generation moves first.
 * - Revocation: at deregister, before the others are told the node has left.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { OwnershipLease } from '@whispr/actors';
import type { NodeInfo, NodeRegistry } from '@whispr/cluster';
import type { RedisKeys } from '@whispr/store';

/** The registry's timing, given to it explicitly so that the lease agrees with it. */
export const MEMBERSHIP_TIMING = { heartbeatMs: 1000, lapseMs: 5000 } as const;

export interface LeasedRegistryOptions {
  registry: NodeRegistry;
  lease: OwnershipLease;
  redis: Redis;
  keys: RedisKeys;
  nodeId: string;
  logger: Logger;
  heartbeatMs?: number;
  lapseMs?: number;
}

export class LeasedRegistry implements NodeRegistry {
  private readonly heartbeatMs: number;
  private readonly lapseMs: number;
  private timer: NodeJS.Timeout | null = null;
  private ring: string | null = null;
  /** Deregistered: a renewal still in flight must not revive the lease. */
  private stopped = false;

  constructor(private readonly o: LeasedRegistryOptions) {
    this.heartbeatMs = o.heartbeatMs ?? MEMBERSHIP_TIMING.heartbeatMs;
    this.lapseMs = o.lapseMs ?? MEMBERSHIP_TIMING.lapseMs;
  }

  async register(node: Omit<NodeInfo, 'lastHeartbeat'>): Promise<void> {
    await this.o.registry.register(node);
    await this.renew();
    this.timer = setInterval(() => {
      this.renew().catch((err: unknown) => this.o.logger.warn({ err }, 'renewing the ownership lease failed'));
    }, this.heartbeatMs / 2);
    this.timer.unref();
  }

  async liveNodes(): Promise<NodeInfo[]> {
    const nodes = await this.o.registry.liveNodes();
    const ring = [...new Set(nodes.flatMap((n) => n.slots))].sort().join(' ');
    if (ring !== this.ring) {
      this.ring = ring;
      const generation = this.o.lease.nextGeneration();
      this.o.logger.info({ generation }, 'ring changing: new ownership generation');
    }
    return nodes;
  }

  async deregister(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.stopped = true;
    this.o.lease.revoke();
    await this.o.registry.deregister();
  }

  private async renew(): Promise<void> {
    const score = await this.o.redis.zscore(this.o.keys.nodes(), this.o.nodeId);
    if (score === null || this.stopped) return;
    this.o.lease.renew(Number(score) + this.lapseMs - this.lapseMs / 3);
  }
}
