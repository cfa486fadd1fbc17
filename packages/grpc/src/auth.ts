/**
 * Service-to-service authentication of the internal API: every call carries
 * `authorization: Bearer <token>` with the shared WHISPR_GRPC_TOKEN, compared in
 * constant time; with TLS configured, the connection is mutual TLS as well
 * (credentials.ts). A missing, repeated or wrong header is UNAUTHENTICATED.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Metadata } from '@grpc/grpc-js';

/** Shortest token accepted (config refuses shorter): a guessable shared secret is no authentication. */
export const MIN_TOKEN_LENGTH = 16;

export class BearerCheck {
  private readonly expected: Buffer;

  constructor(token: string) {
    if (token.length < MIN_TOKEN_LENGTH) throw new RangeError(`the gRPC token must have at least ${MIN_TOKEN_LENGTH} characters`);
    this.expected = digest(`Bearer ${token}`);
  }

  /** Whether the call's metadata carries exactly one authorization header with the token. */
  accepts(metadata: Metadata): boolean {
    const values = metadata.get('authorization');
    if (values.length !== 1) return false;
    const [value] = values;
    if (typeof value !== 'string') return false;
    // Digests first: timingSafeEqual needs equal lengths, and comparing digests
    // says nothing about the token's length either.
    return timingSafeEqual(digest(value), this.expected);
  }
}

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();
