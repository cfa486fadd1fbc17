/**
 * Bench users and their tokens. Users are random UUIDs: the service learns users
 * from their tokens (the user-service owns them), so a fresh run needs no set-up.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';

export interface BenchUser {
  index: number;
  id: string;
  token: string;
}

export async function mintToken(userId: string, secret: string, expiresInSeconds = 24 * 3600): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(userId)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + expiresInSeconds)
    .sign(new TextEncoder().encode(secret));
}

export function makeUsers(count: number, secret: string, firstIndex = 0): Promise<BenchUser[]> {
  return usersWithIds(Array.from({ length: count }, () => randomUUID()), secret, firstIndex);
}

/** Users with ids the caller chose (pairs whose conversation a given node owns, say), indexes from `firstIndex`. */
export async function usersWithIds(ids: readonly string[], secret: string, firstIndex = 0): Promise<BenchUser[]> {
  const users: BenchUser[] = [];
  for (const [i, id] of ids.entries()) users.push({ index: firstIndex + i, id, token: await mintToken(id, secret) });
  return users;
}
