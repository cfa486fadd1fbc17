/** The node's Prometheus metrics (GET /metrics). */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { StatsMessage } from '@whispr/actors';

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly connections = new Gauge({ name: 'whispr_connections', help: 'Open WebSocket connections', registers: [this.registry] });
  readonly connectionsTotal = new Counter({ name: 'whispr_connections_total', help: 'WebSocket connections accepted', registers: [this.registry] });
  readonly upgradesRefused = new Counter({ name: 'whispr_upgrades_refused_total', help: 'Upgrades refused', labelNames: ['reason'], registers: [this.registry] });
  readonly framesIn = new Counter({ name: 'whispr_frames_in_total', help: 'Frames received', labelNames: ['enc'], registers: [this.registry] });
  readonly replies = new Counter({ name: 'whispr_replies_total', help: 'Replies sent', registers: [this.registry] });
  readonly events = new Counter({ name: 'whispr_events_total', help: 'Events written to sockets', registers: [this.registry] });
  readonly badFrames = new Counter({ name: 'whispr_bad_frames_total', help: 'Frames that could not be decoded or were not objects', registers: [this.registry] });
  readonly rateLimited = new Counter({ name: 'whispr_rate_limited_total', help: 'Sends refused with rate_limited', registers: [this.registry] });
  readonly unavailable = new Counter({ name: 'whispr_unavailable_total', help: 'Requests answered unavailable by the gateway', registers: [this.registry] });
  readonly closes = new Counter({ name: 'whispr_server_closes_total', help: 'Connections closed by the server', labelNames: ['code'], registers: [this.registry] });
  readonly forwarded = new Counter({ name: 'whispr_requests_forwarded_total', help: 'Requests forwarded to their owner on another node', labelNames: ['node'], registers: [this.registry] });
  readonly forwardedIn = new Counter({ name: 'whispr_requests_forwarded_in_total', help: 'Requests other nodes forwarded here', labelNames: ['node'], registers: [this.registry] });
  readonly forwardTimeouts = new Counter({ name: 'whispr_forward_timeouts_total', help: 'Forwarded requests answered unavailable for want of a reply in time', registers: [this.registry] });
  readonly eventsForwarded = new Counter({ name: 'whispr_events_forwarded_total', help: 'Events sent to other nodes for their connections', labelNames: ['node'], registers: [this.registry] });
  readonly eventsNotForwarded = new Counter({ name: 'whispr_events_not_forwarded_total', help: 'Events the node-to-node link did not take (the members recover them with sync)', labelNames: ['node'], registers: [this.registry] });
  readonly requestsInFlight = new Gauge({ name: 'whispr_requests_in_flight', help: 'Requests handed to shards and not answered', registers: [this.registry] });
  readonly shardActors = new Gauge({ name: 'whispr_shard_actors', help: 'Live conversation actors', labelNames: ['slot'], registers: [this.registry] });
  readonly shardBatches = new Gauge({ name: 'whispr_shard_batches', help: 'Committed group-commit batches', labelNames: ['slot'], registers: [this.registry] });
  readonly shardMessages = new Gauge({ name: 'whispr_shard_messages_committed', help: 'Messages committed', labelNames: ['slot'], registers: [this.registry] });
  readonly shardFailedBatches = new Gauge({ name: 'whispr_shard_failed_batches', help: 'Batches that failed', labelNames: ['slot'], registers: [this.registry] });
  readonly shardCommitSeconds = new Gauge({ name: 'whispr_shard_commit_seconds', help: 'Seconds spent committing batches, summed over the shard writers', labelNames: ['slot'], registers: [this.registry] });
  readonly shardWriters = new Gauge({ name: 'whispr_shard_writers', help: 'Batch writers (PostgreSQL connections committing at once) of the shard', labelNames: ['slot'], registers: [this.registry] });
  readonly shardWriterQueued = new Gauge({ name: 'whispr_shard_writer_queued', help: 'Writes waiting for the next batch', labelNames: ['slot'], registers: [this.registry] });
  readonly shardReplyLookups = new Gauge({ name: 'whispr_shard_reply_lookups', help: 'reply_to_id checks that needed a PostgreSQL look-up (not in the actor memory)', labelNames: ['slot'], registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'whispr_node_' });
  }

  shardStats(s: StatsMessage): void {
    const labels = { slot: s.slot };
    this.shardActors.set(labels, s.actors);
    this.shardBatches.set(labels, s.batches);
    this.shardMessages.set(labels, s.messages);
    this.shardFailedBatches.set(labels, s.failedBatches);
    this.shardCommitSeconds.set(labels, s.commitMsTotal / 1000);
    this.shardWriterQueued.set(labels, s.writerQueued);
    this.shardWriters.set(labels, s.writers);
    this.shardReplyLookups.set(labels, s.replyLookups);
  }
}
