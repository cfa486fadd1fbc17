/**
 * The oracle: every reply and every close is judged here against PROTOCOL.md.
 * A reply must be `ok` or carry a §3 error code, never `internal`, must answer
 * exactly one frame that was waiting (in that frame's encoding), and must meet
 * what the frame had to get. A close must use a documented code, and only for a
 * reason the fuzzer gave (1007, 1008, 1009), after every reply to the frames
 * read before it.
 */
import { LIBRARY_DROP } from '../generate/build-frame.ts';
import type { WireFrame } from '../generate/build-frame.ts';
import { BAD_FRAMES_BEFORE_1008, DOCUMENTED_CLOSE_CODES, type Outcome } from './contract.ts';
import { describe, unmet } from './expectation.ts';
import type { ReplyMatcher, SentFrame } from './reply-matcher.ts';
import { attributeReply, shortJson } from './attribute-reply.ts';
import type { ServerFrame } from './server-frames.ts';
import { Tally } from './tally.ts';
import { ViolationLog } from './violations.ts';

/** Why the fuzzer expects a connection to close. */
export interface ExpectedClose {
  codes: readonly number[];
  why: string;
  frame: WireFrame;
}

/** Closes a node may make without the fuzzer asking (shutdown, token expiry, slow reader). */
const UNPROVOKED_OK = new Set([1000, 1001, 4001, 4008]);

export class Oracle {
  readonly tally = new Tally();
  readonly violations: ViolationLog;

  /**
   * `singleNode`: the target is one node, so every conversation's owner is always
   * reachable and `unavailable` is a fault, not a transient answer.
   */
  constructor(
    seed: number,
    private readonly singleNode = true,
  ) {
    this.violations = new ViolationLog(seed);
  }

  /** One frame from the node, in a text (JSON) or binary (MessagePack) frame. */
  serverFrame(frame: ServerFrame, binary: boolean, matcher: ReplyMatcher): void {
    switch (frame.kind) {
      case 'malformed':
        this.violations.record('malformed-server-frame', `the node sent a frame that is ${frame.why}`, null);
        return;
      case 'event':
        this.tally.events++;
        return;
      case 'undocumented':
        this.tally.reply(`undocumented:${frame.code}`);
        this.matched(frame.re, binary, matcher, null, (sent) => {
          this.violations.record('undocumented-error-code', `error code ${JSON.stringify(frame.code)} is not in PROTOCOL.md §3`, sent?.frame ?? null, shortJson(frame.body));
        });
        return;
      case 'reply':
        this.tally.reply(frame.outcome);
        this.matched(frame.re, binary, matcher, frame.outcome, (sent) => this.judgeReply(frame.outcome, frame.body, sent));
    }
  }

  private judgeReply(outcome: Outcome, body: Record<string, unknown>, sent: SentFrame | undefined): void {
    const frame = sent?.frame ?? null;
    if (outcome === 'internal') this.violations.record('internal-reply', 'answered internal', frame, shortJson(body));
    if (outcome === 'unavailable' && this.singleNode) this.violations.record('unavailable-reply', 'answered unavailable by a single node', frame, shortJson(body));
    if (sent === undefined || outcome === 'internal') return;
    const why = unmet(sent.frame.expect, outcome);
    if (why !== null) this.violations.record('unexpected-outcome', why, sent.frame, shortJson(body));
  }

  /** Finds the frame a reply answers, records what is wrong with how it names it, then judges it. */
  private matched(re: unknown, binary: boolean, matcher: ReplyMatcher, outcome: Outcome | null, judge: (sent: SentFrame | undefined) => void): void {
    const meets = (s: SentFrame): boolean => outcome === null || unmet(s.frame.expect, outcome) === null;
    const { sent, guessed, findings } = attributeReply(re, binary, matcher, meets, outcome ?? 'an undocumented code');
    for (const f of findings) this.violations.record(f.property, f.reason, f.frame, f.observed);
    // A guessed frame's expectation says nothing about this reply; an internal reply is still one.
    judge(guessed && outcome !== 'internal' ? undefined : sent);
  }

  /** A frame that waited too long, or was still waiting when its connection closed. */
  unanswered(sent: SentFrame, why: string): void {
    if (sent.closer) return;
    this.violations.record('no-reply', why, sent.frame, `nothing; it had to get ${describe(sent.frame.expect)}`);
  }

  /**
   * A close. `expected` is the reason the fuzzer gave, if any; `waiting` the
   * frames without a reply at the close; `badRun` the undecodable frames since the
   * last object (at most); `last` the frame sent last.
   */
  close(code: number, expected: ExpectedClose | null, waiting: SentFrame[], badRun: number, last: WireFrame | null): void {
    this.tally.close(code);
    const frame = expected?.frame ?? last;
    const libraryDrop = expected !== null && code === LIBRARY_DROP && expected.codes.includes(code);
    if (libraryDrop) {
      // Documented (docs/protocol.md, "Closes"): the library cut the TCP connection, replies and all.
      return;
    }
    if (!DOCUMENTED_CLOSE_CODES.has(code)) {
      this.violations.record('undocumented-close', `closed with ${code}${expected === null ? '' : ` after ${expected.why}; PROTOCOL.md §3 says ${expected.codes.join(' or ')}`}`, frame);
    } else if (expected !== null && !expected.codes.includes(code)) {
      this.violations.record('wrong-close-code', `closed with ${code} after ${expected.why}; expected ${expected.codes.join(' or ')}`, frame);
    } else if (expected === null && !UNPROVOKED_OK.has(code)) {
      const why = code === 1008 ? `after at most ${badRun} consecutive undecodable frames (the rule is ${BAD_FRAMES_BEFORE_1008})` : 'though no frame called for it';
      this.violations.record('unexplained-close', `closed with ${code} ${why}`, frame);
    }
    if (!DOCUMENTED_CLOSE_CODES.has(code)) return;
    for (const sent of waiting) this.unanswered(sent, `no reply before the ${code} close, though PROTOCOL.md §3 says every reply to a request read before a close is sent before it`);
  }

  /** A connection the fuzzer expected to close stayed open. */
  stayedOpen(expected: ExpectedClose): void {
    this.violations.record('missing-close', `${expected.why}, the connection stayed open; PROTOCOL.md §3 says close with ${expected.codes.join(' or ')}`, expected.frame);
  }
}
