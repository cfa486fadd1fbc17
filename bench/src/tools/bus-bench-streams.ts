/**
 * The bus over Redis streams, as a measured alternative to the pub/sub bus
 * (cluster/src/bus-redis.ts): only what bus-bench.ts needs to compare the two
 * fairly, the same envelope and the same bounds, not a second production Bus.
 *
 * Each node's inbox is a stream `<prefix>cluster:bus:{<node>}`, capped with
 * `XADD … MAXLEN ~ maxLength` (a stream nobody reads must not grow forever); the
 * receiver reads it on a connection of its own with `XREAD BLOCK 0 COUNT n`,
 * from `$` (only what is new), remembering the last id it read.
 */
import { EventEmitter } from 'node:events';
import { randomInt } from 'node:crypto';
import { Redis } from 'ioredis';
import { EnvelopeDecoder, EnvelopeHeader } from '../../../cluster/src/bus-envelope.ts';

export interface StreamsBusOptions {
  nodeId: string;
  prefix: string;
  redisUrl: string;
  maxPayloadBytes: number;
  maxUnackedMessages: number;
  maxUnackedBytes: number;
  /** Approximate cap of each inbox stream. */
  maxLength: number;
  /** Entries per XREAD. */
  readCount: number;
}

interface StreamsBusEvents {
  message: [from: string, payload: Buffer];
}

export const streamKey = (prefix: string, nodeId: string): string => `${prefix}cluster:bus:{${nodeId}}`;

export class StreamsBus extends EventEmitter<StreamsBusEvents> {
  readonly maxPayloadBytes: number;
  readonly unacked = { messages: 0, bytes: 0 };
  malformed = 0;
  private readonly writer: Redis;
  private readonly reader: Redis;
  private readonly header: EnvelopeHeader;
  private readonly decoder: EnvelopeDecoder;
  private readonly seqs = new Map<string, number>();
  private readonly inbox: string;
  private lastId = '$';
  private closing = false;

  constructor(private readonly options: StreamsBusOptions) {
    super();
    this.maxPayloadBytes = options.maxPayloadBytes;
    const connection = { enableOfflineQueue: false, maxRetriesPerRequest: 0, autoResendUnfulfilledCommands: false, lazyConnect: true };
    this.writer = new Redis(options.redisUrl, connection);
    this.reader = new Redis(options.redisUrl, connection);
    this.header = new EnvelopeHeader(options.nodeId, randomInt(0, 2 ** 32));
    this.decoder = new EnvelopeDecoder(options.maxPayloadBytes);
    this.inbox = streamKey(options.prefix, options.nodeId);
  }

  get connected(): boolean {
    return this.writer.status === 'ready' && this.reader.status === 'ready' && !this.closing;
  }

  async start(): Promise<void> {
    await Promise.all([this.writer.connect(), this.reader.connect()]);
    void this.readLoop();
  }

  send(toNode: string, payload: Uint8Array): boolean {
    if (!this.connected || payload.length > this.maxPayloadBytes) return false;
    if (this.unacked.messages >= this.options.maxUnackedMessages || this.unacked.bytes + payload.length > this.options.maxUnackedBytes) return false;
    const seq = ((this.seqs.get(toNode) ?? 0) + 1) >>> 0;
    this.seqs.set(toNode, seq);
    const bytes = payload.length;
    this.unacked.messages++;
    this.unacked.bytes += bytes;
    const release = (): void => {
      this.unacked.messages--;
      this.unacked.bytes -= bytes;
    };
    this.writer
      .xadd(streamKey(this.options.prefix, toNode), 'MAXLEN', '~', String(this.options.maxLength), '*', 'e', this.header.wrap(seq, payload))
      .then(release, release);
    return true;
  }

  async close(): Promise<void> {
    this.closing = true;
    // The reader is parked in XREAD BLOCK 0: only a disconnect ends it.
    this.reader.disconnect();
    await this.writer.quit().catch(() => this.writer.disconnect());
  }

  private async readLoop(): Promise<void> {
    while (!this.closing) {
      let reply: unknown;
      try {
        reply = await this.reader.callBuffer('XREAD', 'COUNT', String(this.options.readCount), 'BLOCK', '0', 'STREAMS', this.inbox, this.lastId);
      } catch {
        if (this.closing) return;
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      this.deliver(reply);
    }
  }

  /**
   * Reply shape: RESP2 [[key, entries]], or RESP3's map flattened by ioredis to [key, entries];
   * entries are [[id, [field, value, …]], …]. Anything else counts as malformed.
   */
  private deliver(reply: unknown): void {
    const stream: unknown = Array.isArray(reply) ? (Buffer.isBuffer(reply[0]) ? reply : reply[0]) : null;
    const entries = Array.isArray(stream) && Array.isArray(stream[1]) ? (stream[1] as unknown[]) : [];
    for (const entry of entries) {
      const [id, fields] = Array.isArray(entry) ? entry : [];
      const value: unknown = Array.isArray(fields) ? fields[1] : undefined;
      if (Buffer.isBuffer(id)) this.lastId = id.toString('latin1');
      const envelope = Buffer.isBuffer(value) ? this.decoder.decode(value) : 'truncated';
      if (typeof envelope === 'string') {
        this.malformed++;
        continue;
      }
      this.emit('message', envelope.sender, envelope.payload);
    }
  }
}
