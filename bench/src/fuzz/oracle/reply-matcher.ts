/**
 * The frames of one connection still waiting for their reply, and the matching
 * of each reply to one of them. A reply that names a tracking number takes that
 * frame. A `re: null` reply takes a frame that may be answered without its id:
 * the oldest of the same encoding whose expectation it meets, preferring frames
 * that can only be answered with null. That guess can be wrong (a frame that
 * might come back either way is taken, then its own reply names it): the
 * matcher then hands the null reply on to another frame that was waiting for one.
 */
import type { WireFrame } from '../generate/build-frame.ts';

export interface SentFrame {
  frame: WireFrame;
  sentAt: number;
  /** A frame expected to close the connection: a reply to it is allowed, not required. */
  closer: boolean;
}

/** Settled frames remembered for later replies that name them (second replies, late replies). */
const REMEMBERED = 4096;

function remember(map: Map<number, SentFrame>, sent: SentFrame): void {
  map.set(sent.frame.tracking, sent);
  if (map.size > REMEMBERED) map.delete(map.keys().next().value as number);
}

export class ReplyMatcher {
  private readonly waiting = new Map<number, SentFrame>();
  private readonly nullable = new Set<SentFrame>();
  /** Frames a `re: null` reply was matched to: their own reply may still come and prove the guess wrong. */
  private readonly takenByNull = new Map<number, SentFrame>();
  /** Frames answered, or given up on after the reply timeout. */
  private readonly settled = new Map<number, SentFrame>();
  private readonly expired = new Set<number>();

  get size(): number {
    return this.waiting.size;
  }

  add(sent: SentFrame): void {
    this.waiting.set(sent.frame.tracking, sent);
    if (sent.frame.reply !== 'id') this.nullable.add(sent);
  }

  /** Whether a frame that may be answered with `re: null` is waiting in this encoding. */
  nullableWaiting(binary: boolean): boolean {
    for (const sent of this.nullable) if (sent.frame.binary === binary) return true;
    return false;
  }

  take(tracking: number): SentFrame | undefined {
    const sent = this.waiting.get(tracking);
    if (sent !== undefined) this.settle(sent);
    return sent;
  }

  /** The frame a `re: null` reply in this encoding answers, if any may be answered so. */
  takeNull(binary: boolean, meets: (sent: SentFrame) => boolean): SentFrame | undefined {
    let best: SentFrame | undefined;
    let rank = 0;
    for (const sent of this.nullable) {
      if (sent.frame.binary !== binary) continue;
      const r = 1 + (meets(sent) ? 2 : 0) + (sent.frame.reply === 'null' ? 1 : 0);
      if (r > rank) {
        best = sent;
        rank = r;
        if (r === 4) break;
      }
    }
    if (best === undefined) return undefined;
    this.settle(best);
    remember(this.takenByNull, best);
    return best;
  }

  /** The waiting frames in this encoding an answer fits (for the evidence of a reply that names none). */
  candidates(binary: boolean, meets: (sent: SentFrame) => boolean): SentFrame[] {
    return [...this.waiting.values()].filter((sent) => sent.frame.binary === binary && meets(sent));
  }

  /**
   * A `re: null` reply no frame waiting for one explains: the node dropped a
   * readable id. Which frame it answers is a guess (the oldest in this encoding
   * whose expectation it meets); a later reply naming that frame corrects it.
   */
  takeGuess(binary: boolean, meets: (sent: SentFrame) => boolean): SentFrame | undefined {
    let fallback: SentFrame | undefined;
    for (const sent of this.waiting.values()) {
      if (sent.frame.binary !== binary) continue;
      fallback ??= sent;
      if (meets(sent)) {
        fallback = sent;
        break;
      }
    }
    if (fallback === undefined) return undefined;
    this.settle(fallback);
    remember(this.takenByNull, fallback);
    return fallback;
  }

  /**
   * A reply names a frame a null reply was matched to: the guess was wrong. The
   * frame is this reply's; the null reply goes to another waiting frame: one that
   * may be answered so (`nullable`), else one whose readable id the node dropped
   * (`guessed`), else it answered nobody (`none`).
   */
  correct(tracking: number, binary: boolean): { sent: SentFrame; handedOn: 'nullable' | 'guessed' | 'none'; to?: SentFrame } | undefined {
    const sent = this.takenByNull.get(tracking);
    if (sent === undefined) return undefined;
    this.takenByNull.delete(tracking);
    const nullable = this.takeNull(binary, () => true);
    if (nullable !== undefined) return { sent, handedOn: 'nullable', to: nullable };
    const guessed = this.takeGuess(binary, () => true);
    return guessed === undefined ? { sent, handedOn: 'none' } : { sent, handedOn: 'guessed', to: guessed };
  }

  /** Whether a reply naming this frame came after the frame had timed out (already reported). */
  wasExpired(tracking: number): boolean {
    return this.expired.delete(tracking);
  }

  /** A settled frame, for the evidence of a second reply. */
  settledFrame(tracking: number): SentFrame | undefined {
    return this.settled.get(tracking);
  }

  /** A waiting frame in this encoding whose bytes contain one of `needles` (a reply that echoes something nested). */
  takeContaining(binary: boolean, needles: readonly Buffer[]): SentFrame | undefined {
    for (const sent of this.waiting.values()) {
      if (sent.frame.binary === binary && needles.some((n) => sent.frame.bytes.includes(n))) {
        this.settle(sent);
        return sent;
      }
    }
    return undefined;
  }

  /** The oldest waiting frame in this encoding (to attribute a reply nothing else explains). */
  oldest(binary: boolean): SentFrame | undefined {
    for (const sent of this.waiting.values()) if (sent.frame.binary === binary) return sent;
    return undefined;
  }

  /** Removes and returns frames sent before `before`. */
  expire(before: number): SentFrame[] {
    const old: SentFrame[] = [];
    for (const sent of this.waiting.values()) {
      if (sent.sentAt >= before) break;
      old.push(sent);
    }
    for (const sent of old) {
      this.settle(sent);
      this.expired.add(sent.frame.tracking);
      if (this.expired.size > REMEMBERED) this.expired.delete(this.expired.values().next().value as number);
    }
    return old;
  }

  /** Removes and returns every waiting frame. */
  drain(): SentFrame[] {
    const all = [...this.waiting.values()];
    for (const sent of all) this.settle(sent);
    return all;
  }

  private settle(sent: SentFrame): void {
    this.waiting.delete(sent.frame.tracking);
    this.nullable.delete(sent);
    remember(this.settled, sent);
  }
}
