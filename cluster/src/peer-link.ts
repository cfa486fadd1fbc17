/**
 * The gateway's PeerLink over the bus: requests, replies and events for other
 * nodes become items (peer-messages.ts), batched per destination per event-loop
 * turn (bus-batcher.ts), one bus payload each. What arrives is split and decoded
 * strictly; a payload or item that does not decode is dropped whole, counted and
 * logged (throttled), never acted on in part.
 *
 * When the batcher refuses a payload at flush time (the bus's own bound), the
 * requests in it are answered at once as not carried out (`unavailable`), instead
 * of waiting for their forward timeout.
 */
import type { Logger } from 'pino';
import type { ForwardedEvent, ForwardedReply, ForwardedRequest, PeerHandlers, PeerLink } from '@whispr/gateway';
import type { Bus } from './bus.ts';
import { BusBatcher } from './bus-batcher.ts';
import { splitBatch } from './bus-batch-format.ts';
import { LogThrottle } from './log-throttle.ts';
import type { PresenceChange } from '@whispr/store';
import { decodePeerItem, encodeEvent, encodePresence, encodeReply, encodeRequest } from './peer-messages.ts';

export interface BusPeerLinkOptions {
  bus: Bus;
  logger: Logger;
  /** Items per destination per turn (default the batcher's). */
  maxItemsPerTurn?: number;
}

/** What the link counts, for /metrics. */
export interface PeerLinkCounts {
  malformedPayloads: number;
  malformedItems: number;
  refusedRequests: number;
}

export class BusPeerLink implements PeerLink {
  readonly counts: PeerLinkCounts = { malformedPayloads: 0, malformedItems: 0, refusedRequests: 0 };
  private readonly batcher: BusBatcher<number>;
  private handlers: PeerHandlers | null = null;
  private readonly malformedLog: LogThrottle;

  constructor(private readonly o: BusPeerLinkOptions) {
    const log = o.logger.child({ component: 'peer-link' });
    this.malformedLog = new LogThrottle(log);
    this.batcher = new BusBatcher<number>({
      bus: o.bus,
      logger: log,
      ...(o.maxItemsPerTurn !== undefined ? { maxItems: o.maxItemsPerTurn } : {}),
      // Tags are request serials (0 for replies and events): refused requests are answered now.
      onRefused: (node, tags) => this.refused(node, tags),
    });
    o.bus.on('message', (from, payload) => this.onPayload(from, payload));
  }

  get batches(): BusBatcher<number>['counts'] {
    return this.batcher.counts;
  }

  attach(handlers: PeerHandlers): void {
    this.handlers = handlers;
  }

  forward(node: string, request: ForwardedRequest): boolean {
    return this.batcher.add(node, encodeRequest(request), request.serial);
  }

  reply(node: string, reply: ForwardedReply): boolean {
    return this.batcher.add(node, encodeReply(reply), 0);
  }

  event(node: string, event: ForwardedEvent): boolean {
    return this.batcher.add(node, encodeEvent(event), 0);
  }

  presence(node: string, change: PresenceChange): boolean {
    return this.batcher.add(node, encodePresence(change), 0);
  }

  /** Sends what is queued, then refuses everything (the node is stopping). */
  close(): void {
    this.batcher.close();
  }

  private refused(node: string, tags: number[]): void {
    for (const serial of tags) {
      if (serial === 0) continue;
      this.counts.refusedRequests++;
      // As if the owner had said it could not run it: the gateway answers `unavailable`.
      this.handlers?.reply(node, { serial, flags: 0, bytes: null });
    }
  }

  private onPayload(from: string, payload: Buffer): void {
    const handlers = this.handlers;
    if (!handlers) return;
    const items = splitBatch(payload, this.batcher.limits);
    if (typeof items === 'string') {
      this.counts.malformedPayloads++;
      this.malformedLog.warn({ from, reason: items, bytes: payload.length }, 'dropped a malformed payload from another node');
      return;
    }
    for (const raw of items) {
      const item = decodePeerItem(raw);
      if (!item) {
        this.counts.malformedItems++;
        this.malformedLog.warn({ from, bytes: raw.length }, 'dropped a malformed item from another node');
        continue;
      }
      // The bus's buffer may be reused once this returns, and the gateway writes to
      // sockets on a later turn: the bytes are copied out here, once.
      if (item.type === 'request') handlers.request(from, item.request); // pushRaw copies the frame itself
      else if (item.type === 'reply') handlers.reply(from, { ...item.reply, bytes: item.reply.bytes && Buffer.from(item.reply.bytes) });
      else if (item.type === 'presence') handlers.presence(from, item.change);
      else handlers.event(from, { ...item.event, json: Buffer.from(item.event.json), mp: Buffer.from(item.event.mp) });
    }
  }
}
