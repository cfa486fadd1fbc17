/**
 * The actor's memory of recent sends by (sender_id, client_random), so a retry
 * is answered without touching PostgreSQL. Bounded: the oldest entries go first;
 * a retry older than that is caught by the batch writer's look-up instead.
 */
import { createHash } from 'node:crypto';
import type { SendOutcome } from '@whispr/store';

export interface RecentSend {
  digest: string;
  outcome: Promise<SendOutcome>;
}

export const contentDigest = (content: Uint8Array): string => createHash('sha256').update(content).digest('base64');

export class RecentSends {
  private readonly entries = new Map<string, RecentSend>();

  constructor(private readonly capacity = 512) {}

  get(senderId: string, clientRandom: number): RecentSend | undefined {
    return this.entries.get(`${senderId}:${clientRandom}`);
  }

  set(senderId: string, clientRandom: number, entry: RecentSend): void {
    const key = `${senderId}:${clientRandom}`;
    this.entries.set(key, entry);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
  }

  delete(senderId: string, clientRandom: number, entry: RecentSend): void {
    const key = `${senderId}:${clientRandom}`;
    if (this.entries.get(key) === entry) this.entries.delete(key);
  }
}
