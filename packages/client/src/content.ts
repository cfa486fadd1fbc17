/** Message content helpers: content is bytes on the wire and in every SDK object. */
import { randomBytes } from 'node:crypto';

const encoder = new TextEncoder();
// Not fatal: a peer may send media or broken UTF-8, and showing it beats throwing.
const decoder = new TextDecoder('utf-8');

export function contentBytes(content: Uint8Array | string): Uint8Array {
  return typeof content === 'string' ? encoder.encode(content) : content;
}

/** The content of a message (or any object with a `content` field) as text. */
export function textOf(message: { content: Uint8Array }): string {
  return decoder.decode(message.content);
}

/**
 * A fresh client_random: a uniformly random int32. Keep it to retry a send: the
 * same value with the same content is recognised as the same message.
 */
export function randomClientRandom(): number {
  return randomBytes(4).readInt32BE(0);
}
