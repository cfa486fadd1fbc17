/**
 * The cluster's side of /metrics: this node's view of the ring, and its
 * node-to-node traffic (DESIGN.md "The cluster"; docs/operations.md says what to
 * watch). Read from the live counters at each scrape.
 */
import { Gauge, type Registry } from 'prom-client';
import { BUS_DROP_REASONS, type Bus, type BusPeerLink, type Membership } from '@whispr/cluster';

export interface ClusterMetricsSources {
  bus: Bus;
  peers: BusPeerLink;
  membership: Membership;
}

export function registerClusterMetrics(registry: Registry, { bus, peers, membership }: ClusterMetricsSources): void {
  const gauge = (name: string, help: string, labelNames: string[], collect: (g: Gauge) => void): void => {
    new Gauge({ name, help, labelNames, registers: [registry], collect(this: Gauge) { this.reset(); collect(this); } });
  };
  gauge('whispr_cluster_nodes', 'Live nodes in this node’s view of the ring', [], (g) => g.set(membership.liveNodes.length));
  gauge('whispr_cluster_ring_generation', 'Ring changes this node has seen since it started', [], (g) => g.set(membership.ringGeneration));
  gauge('whispr_cluster_serving', '1 while this node serves its slots (fresh heartbeat, in the ring)', [], (g) => g.set(membership.serving ? 1 : 0));
  gauge('whispr_bus_up', '1 while the node-to-node bus is connected', [], (g) => g.set(bus.connected ? 1 : 0));
  gauge('whispr_bus_sent_messages', 'Bus payloads sent, per destination node', ['node'], (g) => {
    for (const [node, c] of bus.stats.sent) g.set({ node }, c.messages);
  });
  gauge('whispr_bus_sent_bytes', 'Bus payload bytes sent, per destination node', ['node'], (g) => {
    for (const [node, c] of bus.stats.sent) g.set({ node }, c.bytes);
  });
  gauge('whispr_bus_received_messages', 'Bus payloads received, per sender node', ['node'], (g) => {
    for (const [node, c] of bus.stats.received) g.set({ node }, c.messages);
  });
  gauge('whispr_bus_received_bytes', 'Bus payload bytes received, per sender node', ['node'], (g) => {
    for (const [node, c] of bus.stats.received) g.set({ node }, c.bytes);
  });
  gauge('whispr_bus_gaps', 'Payloads from a sender that never arrived (holes in its sequence)', ['node'], (g) => {
    for (const [node, c] of bus.stats.received) g.set({ node }, c.gaps);
  });
  gauge('whispr_bus_dropped', 'Bus payloads not delivered, by reason', ['reason'], (g) => {
    for (const reason of BUS_DROP_REASONS) g.set({ reason }, bus.stats.dropped[reason]);
  });
  gauge('whispr_peer_malformed', 'Payloads and items from other nodes dropped as malformed', ['what'], (g) => {
    g.set({ what: 'payload' }, peers.counts.malformedPayloads);
    g.set({ what: 'item' }, peers.counts.malformedItems);
  });
  gauge('whispr_peer_refused_requests', 'Forwarded requests the bus refused (answered unavailable at once)', [], (g) => g.set(peers.counts.refusedRequests));
}
