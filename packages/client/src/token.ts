/**
 * Development tokens: what the terminal chat, the bench and the tests log in
 * with against a node started with WHISPR_DEV=1 (or with the same
 * WHISPR_JWT_SECRET). Real deployments get their tokens from the user-service.
 */
import { SignJWT } from 'jose';
import { v5 as uuidv5 } from 'uuid';
import { isUuid } from '@whispr/protocol';

/** The secret a node uses under WHISPR_DEV=1. */
export const DEV_SECRET = 'dev-secret';

/**
 * The namespace of name-derived user ids. Fixed forever: changing it would give
 * every named test user ("alice", "bob", ...) a new id and orphan their data.
 */
export const USER_NAME_NAMESPACE = '5e00aa85-d6fb-4298-a1c2-5808d9d44c0e';

export interface DevTokenOptions {
  /** The token's `sub`: a lowercase hyphenated UUID. */
  userId: string;
  /** HS256 secret; defaults to the dev secret. */
  secret?: string;
  /** Lifetime in seconds; without it the token has no `exp` and never expires. */
  expiresInSeconds?: number;
}

/** Signs an HS256 JWT for `userId`, as a node verifies it (PROTOCOL.md §2). */
export async function mintDevToken(options: DevTokenOptions): Promise<string> {
  const { userId, secret = DEV_SECRET, expiresInSeconds } = options;
  if (!isUuid(userId)) {
    throw new TypeError(`mintDevToken: options.userId must be a lowercase hyphenated UUID, got ${JSON.stringify(userId)}`);
  }
  if (typeof secret !== 'string' || secret === '') throw new TypeError('mintDevToken: options.secret must be a non-empty string');
  if (expiresInSeconds !== undefined && (!Number.isInteger(expiresInSeconds) || expiresInSeconds <= 0)) {
    throw new TypeError(`mintDevToken: options.expiresInSeconds must be a positive integer, got ${String(expiresInSeconds)}`);
  }
  const nowS = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({}).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setSubject(userId).setIssuedAt(nowS);
  if (expiresInSeconds !== undefined) jwt.setExpirationTime(nowS + expiresInSeconds);
  return jwt.sign(new TextEncoder().encode(secret));
}

/** A stable user id for a name: the same name gives the same UUID (v5) on every machine. */
export function userIdFromName(name: string): string {
  if (typeof name !== 'string' || name === '') throw new TypeError('userIdFromName: name must be a non-empty string');
  return uuidv5(name, USER_NAME_NAMESPACE);
}
