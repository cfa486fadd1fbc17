/**
 * Which frame a reply answers, and what is wrong with how it names it. A `re`
 * that maps to a tracking number names that frame; `re: null` goes to a frame
 * that may be answered without its id; a `re` that names nothing is looked for
 * inside the frames' bytes (a nested decoy id the node echoed). Findings are
 * returned, not recorded, so the judge decides what to make of them.
 */
import { encodeMsgpack } from '../frame/encode-msgpack.ts';
import { num } from '../frame/frame-node.ts';
import type { WireFrame } from '../generate/build-frame.ts';
import type { ReplyMatcher, SentFrame } from './reply-matcher.ts';
import type { Property } from './properties.ts';
import { trackingOf } from './reply-id.ts';

export interface Finding {
  property: Property;
  reason: string;
  frame: WireFrame | null;
  observed?: string;
}

export interface Attribution {
  /** The frame answered, if any; `undefined` with no finding means a late reply to a frame already reported. */
  sent: SentFrame | undefined;
  /** The frame is a guess (a null reply no frame was owed): its expectation is not judged. */
  guessed: boolean;
  findings: Finding[];
}

export const shortJson = (value: unknown): string => {
  try {
    return JSON.stringify(value).slice(0, 300);
  } catch {
    return String(value);
  }
};

/** Whether `re` is the request's id (NaN and Infinity, no usable ids, never are). */
const sameId = (re: unknown, id: unknown): boolean => re === id && (typeof id !== 'number' || Number.isFinite(id));

/** How a foreign `re` would appear inside a frame's bytes, to find the frame that carried it. */
function needlesFor(re: unknown, binary: boolean): Buffer[] {
  const noRefs = (): never => {
    throw new Error('no placeholders here');
  };
  if (typeof re === 'number') return binary ? [encodeMsgpack(num(re), noRefs), encodeMsgpack(num(re, 'u64'), noRefs)] : [Buffer.from(String(re))];
  if (typeof re === 'string') return [binary ? Buffer.from(re, 'utf8') : Buffer.from(JSON.stringify(re).slice(1, -1))];
  return [];
}

export function attributeReply(re: unknown, binary: boolean, matcher: ReplyMatcher, meets: (sent: SentFrame) => boolean, outcome: string): Attribution {
  const tracking = trackingOf(re);
  const findings: Finding[] = [];
  if (tracking === 'foreign') {
    const sent = matcher.takeContaining(binary, needlesFor(re, binary));
    // An id no tracking number fits (past 2^53, say) may come back as it was sent: an echo, not a decoy.
    if (sent === undefined || !sameId(re, sent.frame.idValue)) {
      findings.push({ property: 'reply-names-no-request', reason: `a reply whose re is not the id of the frame it answers but a value nested inside it`, frame: sent?.frame ?? null, observed: `re ${shortJson(re)}` });
    }
    return { sent, guessed: false, findings };
  }
  if (tracking === null) {
    let sent = matcher.takeNull(binary, meets);
    if (sent === undefined) {
      // Null replies are serialised per encoding (a nullable frame waits for the one before), so none was owed here.
      const candidates = matcher.candidates(binary, meets);
      sent = matcher.takeGuess(binary, meets);
      findings.push({
        property: 'reply-without-id',
        reason: 're: null for a request whose id the node could read (the frame shown is a guess: the oldest waiting one this answer fits)',
        frame: sent?.frame ?? null,
        observed: `re null, ${outcome}; ${candidates.length} frames it may have answered: ${candidates.slice(0, 5).map((c) => c.frame.labels.join(' ')).join('; ')}`,
      });
      return { sent, guessed: true, findings };
    }
    return { sent, guessed: false, findings };
  }
  let sent = matcher.take(tracking);
  if (sent === undefined) {
    if (matcher.wasExpired(tracking)) return { sent: undefined, guessed: false, findings };
    const corrected = matcher.correct(tracking, binary);
    if (corrected === undefined) {
      findings.push({ property: 'extra-reply', reason: 'a second reply to one request', frame: matcher.settledFrame(tracking)?.frame ?? null, observed: `re ${shortJson(re)}, ${outcome}` });
      return { sent: undefined, guessed: false, findings };
    }
    sent = corrected.sent;
    if (corrected.handedOn === 'guessed') findings.push({ property: 'reply-without-id', reason: 're: null for a request whose id the node could read (the frame shown is a guess)', frame: corrected.to?.frame ?? null, observed: 'an earlier re: null reply' });
    if (corrected.handedOn === 'none') findings.push({ property: 'extra-reply', reason: 'a re: null reply that no waiting frame accounts for (a request answered twice?)', frame: sent.frame });
  }
  if (sent.frame.idValue !== undefined && !sameId(re, sent.frame.idValue)) {
    findings.push({ property: 'reply-with-wrong-id', reason: 'the reply\'s re is not the request\'s id', frame: sent.frame, observed: `re ${shortJson(re)} for id ${shortJson(sent.frame.idValue)}` });
  }
  if (sent.frame.binary !== binary) {
    findings.push({ property: 'reply-in-other-encoding', reason: `a ${sent.frame.binary ? 'MessagePack' : 'JSON'} request answered in a ${binary ? 'binary' : 'text'} frame`, frame: sent.frame });
  }
  return { sent, guessed: false, findings };
}
