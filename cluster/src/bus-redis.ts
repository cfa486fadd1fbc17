/**
 * The bus over Redis pub/sub (chosen over streams by measurement: docs/architecture.md,
 * "The bus"). Each node subscribes to one inbox channel, `<prefix>cluster:bus:{<node>}`;
 * sending is one PUBLISH of one envelope to the destination's inbox.
 *
 * Two connections, both owned here: a subscribed connection can issue nothing but
 * (un)subscribe commands, and keeping the publisher to ourselves lets its bound and
 * its failure rules be the bus's, not those of whoever else shares a client:
 *
 * - no offline queue and no resend of unanswered commands: a payload that could
 *   not be written now is refused now (`send` → false), and one cut off by a
 *   disconnect is counted `failed`, never replayed late after it has timed out;
 * - subscriptions are made by the bus on every `ready` (ioredis's own
 *   auto-resubscribe is off), so `up` means "subscribed", not "socket open".
 *
 * What pub/sub loses, and how it shows: publishes while a subscriber is
 * disconnected are gone (the sender sees PUBLISH answer 0 → `unheard`; the
 * receiver sees a hole in the sender's sequence → `gaps`); publishes in flight
 * when the publisher's connection drops are `failed`. Redis disconnects a
 * subscriber whose output buffer passes `client-output-buffer-limit pubsub`
 * (32 MiB by default): that is a blip like any other, and `maxUnackedBytes`
 * keeps one sender well below it.
 */
import { EventEmitter, once } from 'node:events';
import { randomInt } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Bus, BusEvents } from './bus.ts';
import { BusCounters } from './bus-counters.ts';
import { EnvelopeDecoder, EnvelopeHeader } from './bus-envelope.ts';
import { GapDetector } from './bus-gaps.ts';
import { redactedUrl, resolveRedisBusOptions, type RedisBusOptions, type ResolvedRedisBusOptions } from './bus-options.ts';
import { LogThrottle } from './log-throttle.ts';

/** The pub/sub channel a node receives on. Braces: the part Redis Cluster would hash on (sharded pub/sub). */
export const busInboxChannel = (prefix: string, nodeId: string): string => `${prefix}cluster:bus:{${nodeId}}`;

/** Per destination: its channel name (built once) and the last sequence number sent to it. */
interface OutboundLink {
  channel: string;
  seq: number;
}

export class RedisPubSubBus extends EventEmitter<BusEvents> implements Bus {
  readonly nodeId: string;
  readonly maxPayloadBytes: number;
  readonly stats = new BusCounters();

  private readonly options: ResolvedRedisBusOptions;
  private readonly log: Logger;
  private readonly inbox: string;
  private readonly header: EnvelopeHeader;
  private readonly decoder: EnvelopeDecoder;
  private readonly gaps = new GapDetector();
  private readonly links = new Map<string, OutboundLink>();
  private readonly malformedLog: LogThrottle;
  private readonly gapLog: LogThrottle;
  private readonly failureLog: LogThrottle;
  private readonly listenerLog: LogThrottle;
  private readonly redisErrorLog: LogThrottle;

  private publisher: Redis | null = null;
  private subscriber: Redis | null = null;
  private publisherReady = false;
  private subscribed = false;
  private isUp = false;
  private hasBeenUp = false;
  private closing = false;
  /** Aborted by close(), so a start() still waiting for Redis ends at once. */
  private readonly closed = new AbortController();

  constructor(options: RedisBusOptions) {
    super();
    this.options = resolveRedisBusOptions('RedisPubSubBus', options);
    this.nodeId = this.options.nodeId;
    this.maxPayloadBytes = this.options.maxPayloadBytes;
    this.log = this.options.logger.child({ component: 'bus', nodeId: this.nodeId });
    this.inbox = busInboxChannel(this.options.prefix, this.nodeId);
    this.header = new EnvelopeHeader(this.nodeId, randomInt(0, 2 ** 32));
    this.decoder = new EnvelopeDecoder(this.maxPayloadBytes);
    this.malformedLog = new LogThrottle(this.log);
    this.gapLog = new LogThrottle(this.log);
    this.failureLog = new LogThrottle(this.log);
    this.listenerLog = new LogThrottle(this.log);
    this.redisErrorLog = new LogThrottle(this.log);
  }

  get connected(): boolean {
    return this.isUp;
  }

  async start(): Promise<void> {
    if (this.publisher !== null || this.closing) throw new Error('RedisPubSubBus.start: a bus starts once');
    this.publisher = this.connect('publisher');
    this.subscriber = this.connect('subscriber');
    this.watchPublisher(this.publisher);
    this.watchSubscriber(this.subscriber);
    try {
      await once(this, 'up', { signal: AbortSignal.any([AbortSignal.timeout(this.options.startTimeoutMs), this.closed.signal]) });
    } catch (err) {
      const why = this.closing ? 'closed before it was up' : `not subscribed to ${redactedUrl(this.options.redisUrl)} within ${this.options.startTimeoutMs} ms`;
      await this.close();
      throw new Error(`RedisPubSubBus.start: ${why}`, { cause: err });
    }
  }

  send(toNode: string, payload: Uint8Array, onLost?: (reason: 'unheard' | 'failed') => void): boolean {
    const publisher = this.publisher;
    if (!this.isUp || publisher === null) return this.refuse('not_connected');
    if (payload.length > this.maxPayloadBytes) return this.refuse('too_large');
    const unacked = this.stats.unacked;
    if (unacked.messages >= this.options.maxUnackedMessages || unacked.bytes + payload.length > this.options.maxUnackedBytes) {
      return this.refuse('over_bound');
    }
    const link = this.link(toNode);
    link.seq = (link.seq + 1) >>> 0;
    const envelope = this.header.wrap(link.seq, payload);
    const bytes = payload.length;
    unacked.messages++;
    unacked.bytes += bytes;
    this.stats.countSent(toNode, bytes);
    publisher.publish(link.channel, envelope).then(
      (receivers) => {
        this.release(bytes);
        if (receivers === 0) {
          this.stats.drop('unheard');
          onLost?.('unheard');
        }
      },
      (err: unknown) => {
        this.release(bytes);
        this.stats.drop('failed');
        this.failureLog.warn({ err, toNode }, 'bus publish failed; the payload is lost');
        onLost?.('failed');
      },
    );
    return true;
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.closed.abort();
    this.updateState('closed');
    const clients = [this.publisher, this.subscriber].filter((c): c is Redis => c !== null);
    await Promise.all(clients.map(quit));
  }

  private connect(role: 'publisher' | 'subscriber'): Redis {
    const client = new Redis(this.options.redisUrl, {
      lazyConnect: true,
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      autoResubscribe: false,
      // With no retries, commands in flight are rejected when the connection drops,
      // so `unacked` always comes back down and the loss is counted.
      maxRetriesPerRequest: 0,
      connectionName: `whispr-bus-${role}:${this.nodeId}`,
    });
    client.on('error', (err: Error) => this.redisErrorLog.warn({ err, role }, 'bus Redis connection error'));
    client.connect().catch(() => {
      // The first attempt failed; ioredis keeps retrying, and start() times out if it never gets there.
    });
    return client;
  }

  private watchPublisher(client: Redis): void {
    client.on('ready', () => {
      this.publisherReady = client.status === 'ready';
      this.updateState('publisher ready');
    });
    client.on('close', () => {
      this.publisherReady = false;
      this.updateState('publisher connection closed');
    });
  }

  private watchSubscriber(client: Redis): void {
    client.on('ready', () => {
      if (this.closing) return;
      client.subscribe(this.inbox).then(
        () => {
          this.subscribed = client.status === 'ready';
          this.updateState('subscribed');
        },
        // The connection dropped again before the subscription took; the next `ready` retries.
        (err: unknown) => this.redisErrorLog.warn({ err }, 'bus subscribe failed'),
      );
    });
    client.on('close', () => {
      this.subscribed = false;
      this.updateState('subscriber connection closed');
    });
    client.on('messageBuffer', (_channel: Buffer, message: Buffer) => this.receive(message));
  }

  private receive(bytes: Buffer): void {
    if (this.closing) return;
    const envelope = this.decoder.decode(bytes);
    if (typeof envelope === 'string') {
      this.stats.drop('malformed');
      this.malformedLog.warn({ reason: envelope, bytes: bytes.length }, 'dropped a message on the bus inbox that is not a bus envelope');
      return;
    }
    const { sender, payload } = envelope;
    const missing = this.gaps.observe(sender, envelope.incarnation, envelope.seq);
    this.stats.countReceived(sender, payload.length, missing);
    if (missing > 0) this.gapLog.warn({ from: sender, missing }, 'payloads from this node were lost on the bus');
    try {
      this.emit('message', sender, payload);
    } catch (err) {
      this.stats.listenerErrors++;
      this.listenerLog.warn({ err, from: sender }, 'a bus message listener threw');
    }
  }

  private updateState(reason: string): void {
    const up = this.publisherReady && this.subscribed && !this.closing;
    if (up === this.isUp) return;
    this.isUp = up;
    if (up) {
      const again = this.hasBeenUp;
      this.hasBeenUp = true;
      this.log.info({ inbox: this.inbox, again }, 'bus up');
      this.emitSafely('up');
      if (again) this.emitSafely('reconnected');
    } else {
      if (!this.closing) this.log.warn({ reason }, 'bus down; sends are refused until Redis is back');
      this.emitSafely('down', reason);
    }
  }

  /** State listeners run inside ioredis's callbacks; their exceptions must not reach it. */
  private emitSafely(...args: ['up'] | ['reconnected'] | ['down', string]): void {
    try {
      if (args[0] === 'down') this.emit('down', args[1]);
      else this.emit(args[0]);
    } catch (err) {
      this.stats.listenerErrors++;
      this.listenerLog.warn({ err, event: args[0] }, 'a bus state listener threw');
    }
  }

  private link(toNode: string): OutboundLink {
    let link = this.links.get(toNode);
    if (link === undefined) {
      link = { channel: busInboxChannel(this.options.prefix, toNode), seq: 0 };
      this.links.set(toNode, link);
    }
    return link;
  }

  private release(bytes: number): void {
    this.stats.unacked.messages--;
    this.stats.unacked.bytes -= bytes;
  }

  private refuse(reason: 'not_connected' | 'too_large' | 'over_bound'): false {
    this.stats.drop(reason);
    return false;
  }
}

/** QUIT lets publishes already written finish; a connection that is not up is simply dropped. */
async function quit(client: Redis): Promise<void> {
  if (client.status === 'ready') {
    try {
      await client.quit();
      return;
    } catch {
      // Fall through: the connection went away while quitting.
    }
  }
  client.disconnect();
}
