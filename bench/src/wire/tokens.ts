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

export async function makeUsers(count: number, secret: string, firstIndex = 0): Promise<BenchUser[]> {
  const users: BenchUser[] = [];
  for (let i = 0; i < count; i++) {
    const id = randomUUID();
    users.push({ index: firstIndex + i, id, token: await mintToken(id, secret) });
  }
  return users;
}
