/**
 * The table of requests waiting for their reply, keyed by request id. Replies can
 * come back in any order (PROTOCOL.md §3), so matching is by id only.
 */
import type { Reply, RequestId } from '@whispr/protocol';
import { WhisprRequestError, WhisprTimeoutError } from './errors.ts';

interface Entry {
  op: string;
  resolve: (result: Record<string, unknown>) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

export class PendingRequests {
  private readonly entries = new Map<RequestId, Entry>();

  /** onFreed runs whenever an entry leaves the table, so a sender waiting for room can go on. */
  constructor(private readonly onFreed: () => void = () => {}) {}

  get size(): number {
    return this.entries.size;
  }

  /**
   * Registers a request before it is sent. A timeout of 0 waits forever.
   * The promise resolves with the reply minus `re` and `ok`.
   */
  add(id: RequestId, op: string, timeoutMs: number): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const timer =
        timeoutMs > 0
          ? setTimeout(() => {
              this.entries.delete(id);
              reject(new WhisprTimeoutError(op, id, timeoutMs));
              this.onFreed();
            }, timeoutMs)
          : undefined;
      this.entries.set(id, { op, resolve, reject, timer });
    });
  }

  /** Settles the request a reply answers. Returns false when no request is waiting for it. */
  settle(reply: Reply): boolean {
    if (reply.re === null) return false;
    const entry = this.entries.get(reply.re);
    if (entry === undefined) return false;
    this.entries.delete(reply.re);
    if (entry.timer !== undefined) clearTimeout(entry.timer);
    if (reply.ok) {
      const { re: _re, ok: _ok, ...result } = reply;
      entry.resolve(result);
    } else {
      entry.reject(new WhisprRequestError(entry.op, reply.re, reply.error));
    }
    this.onFreed();
    return true;
  }

  /** Fails one request that could not be sent. */
  fail(id: RequestId, err: Error): void {
    const entry = this.entries.get(id);
    if (entry === undefined) return;
    this.entries.delete(id);
    if (entry.timer !== undefined) clearTimeout(entry.timer);
    entry.reject(err);
    this.onFreed();
  }

  /** Fails every waiting request (the connection is gone: no reply can arrive any more). */
  rejectAll(err: Error): void {
    const entries = [...this.entries.values()];
    this.entries.clear();
    for (const entry of entries) {
      if (entry.timer !== undefined) clearTimeout(entry.timer);
      entry.reject(err);
    }
  }
}
