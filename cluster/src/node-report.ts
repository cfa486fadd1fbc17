/**
 * One node's own view of the cluster, as `GET /cluster` answers it (JSON) and
 * `pnpm cluster status` shows it beside the registry: the registry says who
 * heartbeats, this says what each node concluded from it (the ring it routes
 * by, whether it serves) and how its node-to-node link fares. Two nodes whose
 * `ring.slots` differ route some conversations to different owners until their
 * next poll; a node with `serving: false` answers its own conversations
 * `unavailable`. Built from live objects at each request, nothing cached.
 */
import type { Bus } from './bus.ts';
import type { Membership } from './membership.ts';
import type { BusPeerLink, PeerLinkCounts } from './peer-link.ts';
import type { RingRouting } from './ring-routing.ts';

export interface NodeReport {
  nodeId: string;
  incarnation: string;
  /** This node serves its slots (fresh heartbeat, in the ring). */
  serving: boolean;
  /** Until when it may serve without another heartbeat (ms since the epoch; 0: never had one). */
  leaseUntil: number;
  ring: { generation: number; slots: readonly string[] };
  /** This node's own slots, and whether each is in the ring it sees. */
  slots: { slot: string; inRing: boolean }[];
  /** The live nodes as this node last read them. */
  nodes: { nodeId: string; incarnation: string; host: string; port: number; slots: string[]; heartbeatAgeMs: number }[];
  bus: {
    connected: boolean;
    sent: Record<string, { messages: number; bytes: number }>;
    received: Record<string, { messages: number; bytes: number; gaps: number }>;
    dropped: Record<string, number>;
    unacked: { messages: number; bytes: number };
    listenerErrors: number;
  };
  peers: PeerLinkCounts & { payloads: number; items: number; refusedItems: number };
}

export interface NodeReportSources {
  incarnation: string;
  membership: Membership;
  routing: RingRouting;
  bus: Bus;
  peers: BusPeerLink;
}

const record = <V>(map: ReadonlyMap<string, V>, pick: (v: V) => V): Record<string, V> =>
  Object.fromEntries([...map].map(([k, v]) => [k, pick(v)]));

export function nodeReport({ incarnation, membership, routing, bus, peers }: NodeReportSources): NodeReport {
  const now = Date.now();
  const ringSlots = membership.currentRing.slots;
  const inRing = new Set(ringSlots);
  return {
    nodeId: membership.nodeId,
    incarnation,
    serving: membership.serving,
    leaseUntil: membership.lease,
    ring: { generation: membership.ringGeneration, slots: ringSlots },
    slots: routing.shards.map((s) => ({ slot: s.slot, inRing: inRing.has(s.slot) })),
    nodes: membership.liveNodes.map((n) => ({
      nodeId: n.nodeId, incarnation: n.incarnation, host: n.host, port: n.port, slots: n.slots, heartbeatAgeMs: now - n.lastHeartbeat,
    })),
    bus: {
      connected: bus.connected,
      sent: record(bus.stats.sent, (c) => ({ messages: c.messages, bytes: c.bytes })),
      received: record(bus.stats.received, (c) => ({ messages: c.messages, bytes: c.bytes, gaps: c.gaps })),
      dropped: { ...bus.stats.dropped },
      unacked: { ...bus.stats.unacked },
      listenerErrors: bus.stats.listenerErrors,
    },
    peers: { ...peers.counts, ...peers.batches },
  };
}
