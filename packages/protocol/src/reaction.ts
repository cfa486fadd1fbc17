/**
 * What a reaction may be (PROTOCOL.md §5: at most 10 characters), checked by
 * the msg.react and msg.unreact handlers (a bad one is bad_request naming
 * `reaction`); exported so that clients can check before sending.
 *
 * "Characters" are Unicode code points, the unit PostgreSQL's VARCHAR(10) counts,
 * so what passes here always fits the column: 👍🏽 (thumbs up and a skin tone)
 * is 2, 👨‍👩‍👧‍👦 (four people joined by three ZWJ) is 7. Counting UTF-16 units
 * instead would refuse such emoji although the column takes them.
 *
 * Refused: the empty string, blank ones, control characters (NUL and the C0/C1
 * ranges), line and paragraph separators, and lone surrogates (not Unicode
 * text; they would reach PostgreSQL as U+FFFD, so two different requests would
 * store the same reaction). Reactions are otherwise compared exactly as sent,
 * without normalization.
 */
import { MAX_REACTION_LENGTH } from './limits.ts';

const UNPRINTABLE = /[\p{Cc}\p{Cs}\p{Zl}\p{Zp}]/u;
const BLANK = /^\p{White_Space}+$/u;

/** Why `reaction` is not acceptable, or null when it is. */
export function reactionProblem(reaction: string): string | null {
  if (reaction.length === 0) return 'must not be empty';
  // A code point takes one or two UTF-16 units: past twice the bound it is too long
  // without looking further (the string may be as long as a frame allows).
  const tooLong = `must be at most ${MAX_REACTION_LENGTH} characters (Unicode code points)`;
  if (reaction.length > 2 * MAX_REACTION_LENGTH) return tooLong;
  if (UNPRINTABLE.test(reaction)) return 'must not contain control characters, line separators or lone surrogates';
  if (BLANK.test(reaction)) return 'must not be blank';
  // Iterating a string yields code points.
  if (Array.from(reaction).length > MAX_REACTION_LENGTH) return tooLong;
  return null;
}
