/**
 * Identifiers. Message and row ids are UUIDv7 (time-ordered) so B-tree indexes
 * append instead of splitting at random. A direct conversation's id is derived
 * from its sorted pair of users, so every creator (even racing on two nodes)
 * names the same row and `INSERT ... ON CONFLICT (id) DO NOTHING` settles it.
 */
import { v5 as uuidv5, v7 as uuidv7 } from 'uuid';

/** Fixed namespace for direct-conversation ids; changing it would orphan every direct conversation. */
const DIRECT_NAMESPACE = '6f1d3c1e-8a55-4c4e-9a63-3f0f7c2b9d41';

// uuid's v7 asks the OS for 16 random bytes per id, a measurable cost when every
// message and delivery status gets one; draw them from a pool refilled 1,024 ids
// at a time instead, keeping v7's ordering within a millisecond (a counter seeded
// from the random bytes, as the library does).
const POOL_BYTES = 16 * 1024;
const pool = new Uint8Array(POOL_BYTES);
let poolAt = POOL_BYTES;
let lastMs = -1;
let seq = 0;

function random16(): Uint8Array {
  if (poolAt + 16 > POOL_BYTES) {
    crypto.getRandomValues(pool);
    poolAt = 0;
  }
  const bytes = pool.subarray(poolAt, poolAt + 16);
  poolAt += 16;
  return bytes;
}

export function newId(): string {
  const random = random16();
  const now = Date.now();
  if (now > lastMs) {
    lastMs = now;
    seq = ((random[6]! & 0x7f) << 24) | (random[7]! << 16) | (random[8]! << 8) | random[9]!;
  } else {
    seq = (seq + 1) | 0;
    if (seq === 0) lastMs++;
  }
  return uuidv7({ random, msecs: lastMs, seq });
}

export function directConversationId(userA: string, userB: string): string {
  const [first, second] = userA < userB ? [userA, userB] : [userB, userA];
  return uuidv5(`direct:${first}:${second}`, DIRECT_NAMESPACE);
}
