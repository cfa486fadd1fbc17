/** Raw frames for tests of hostile input: bytes as they are, replies as they come. */
import type { WhisprClient } from '@whispr/client';

export interface RawReply {
  re: unknown;
  ok: boolean;
  error?: { code: string; message: string; field?: string; retry_after_ms?: number };
  [field: string]: unknown;
}

/** Sends raw bytes and resolves with the next reply frame the client could not match to a request. */
export function rawReply(c: WhisprClient, data: string | Uint8Array, binary: boolean, timeoutMs = 10_000): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      c.off('reply.unmatched', onReply);
      reject(new Error(`no reply to a raw frame within ${timeoutMs} ms`));
    }, timeoutMs);
    const onReply = (reply: unknown): void => {
      clearTimeout(timer);
      c.off('reply.unmatched', onReply);
      resolve(reply as RawReply);
    };
    c.on('reply.unmatched', onReply);
    c.sendRaw(data, binary);
  });
}

/** Collects every unmatched reply, in arrival order. */
export function collectReplies(c: WhisprClient): RawReply[] {
  const replies: RawReply[] = [];
  c.on('reply.unmatched', (reply: unknown) => replies.push(reply as RawReply));
  return replies;
}

/** A MessagePack map written by hand (encoders dedupe keys): entries are pre-encoded keys and values. */
export function msgpackMap(entries: [Uint8Array, Uint8Array][]): Buffer {
  if (entries.length > 15) throw new RangeError('msgpackMap: at most 15 entries (fixmap)');
  return Buffer.concat([Buffer.from([0x80 | entries.length]), ...entries.flat()]);
}
