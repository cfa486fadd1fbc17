/**
 * Message bodies the bench can recognise later: each is derived from its sender
 * and client_random, so verification can check the stored bytes without keeping
 * every body in memory.
 */
import { createHash } from 'node:crypto';

export function makeContent(senderIndex: number, clientRandom: number, bytes: number): Buffer {
  const content = Buffer.alloc(Math.max(8, bytes));
  content.writeUInt32BE(senderIndex >>> 0, 0);
  content.writeInt32BE(clientRandom | 0, 4);
  // A cheap varying fill so no two bodies compress or compare alike.
  for (let i = 8; i < content.length; i++) content[i] = 97 + ((senderIndex * 31 + clientRandom * 7 + i) % 26);
  return content;
}

export const contentMd5 = (content: Uint8Array): string => createHash('md5').update(content).digest('hex');
