/**
 * Identifiers. Message and row ids are UUIDv7 (time-ordered) so B-tree indexes
 * append instead of splitting at random. A direct conversation's id is derived
 * from its sorted pair of users, so every creator (even racing on two nodes)
 * names the same row and `INSERT ... ON CONFLICT (id) DO NOTHING` settles it.
 */
import { v5 as uuidv5, v7 as uuidv7 } from 'uuid';

/** Fixed namespace for direct-conversation ids; changing it would orphan every direct conversation. */
const DIRECT_NAMESPACE = '6f1d3c1e-8a55-4c4e-9a63-3f0f7c2b9d41';

export const newId = (): string => uuidv7();

export function directConversationId(userA: string, userB: string): string {
  const [first, second] = userA < userB ? [userA, userB] : [userB, userA];
  return uuidv5(`direct:${first}:${second}`, DIRECT_NAMESPACE);
}
