/**
 * Counts the payloads a receiver never saw: each sender numbers what it sends to
 * one destination 1, 2, 3… (per incarnation, wrapping at 2^32), so a hole in the
 * numbers is a loss inside the transport, e.g. publishes made while this node's
 * subscription was down. Pub/sub would lose those silently; this makes them a
 * counter. A new incarnation (the sender restarted) starts a new sequence.
 */

/** Beyond this many senders (only a flooded inbox gets there) state is reset rather than grown. */
const MAX_SENDERS = 1024;
const HALF_RANGE = 2 ** 31;

interface SenderSequence {
  incarnation: number;
  last: number;
}

export class GapDetector {
  private readonly senders = new Map<string, SenderSequence>();

  /** Records `seq` from `sender` and returns how many payloads are missing just before it. */
  observe(sender: string, incarnation: number, seq: number): number {
    const state = this.senders.get(sender);
    if (state === undefined || state.incarnation !== incarnation) {
      if (state === undefined && this.senders.size >= MAX_SENDERS) this.senders.clear();
      this.senders.set(sender, { incarnation, last: seq });
      return 0;
    }
    // Serial-number arithmetic (RFC 1982): the distance forward from the last seq, modulo 2^32.
    const ahead = (seq - state.last) >>> 0;
    state.last = seq;
    // Behind or equal is not a loss; the sequence simply resumes from here.
    return ahead > 0 && ahead < HALF_RANGE ? ahead - 1 : 0;
  }
}
