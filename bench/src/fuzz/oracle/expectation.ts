/**
 * What a generated frame should get back. Most mutated frames only have to get a
 * documented, non-`internal` answer; some have a definite one that PROTOCOL.md
 * spells out (a repeated key is `bad_request`, a conversation that does not exist
 * is `not_found`, one the caller is not a member of is `forbidden`, a request
 * with decoy routing keys nested inside it runs as if they were not there).
 */
import { TRANSIENT_OUTCOMES, type Outcome } from './contract.ts';

export type Expectation =
  /** A documented code, never `internal` (the oracle checks that for every reply anyway). */
  | { kind: 'any' }
  /** One of these (or a transient outcome); `why` cites the rule, for the report. */
  | { kind: 'one-of'; outcomes: readonly Outcome[]; why: string };

export const ANY: Expectation = { kind: 'any' };

export const oneOf = (why: string, ...outcomes: Outcome[]): Expectation => ({ kind: 'one-of', outcomes, why });

export const badRequest = (why: string): Expectation => oneOf(why, 'bad_request');

/**
 * What an invalid version of a request must get: `bad_request`, though a node
 * that looks the conversation up before it checks the rest may fairly answer
 * `forbidden` or `not_found` first, as the valid request would have got. A
 * request that only had to get a documented answer still only has to.
 */
export function invalidVersionOf(base: Expectation, why: string): Expectation {
  // A request already mutated past prediction (deep, huge, odd values) may be refused for that first.
  if (base.kind === 'any') return ANY;
  const lookups = base.kind === 'one-of' ? base.outcomes.filter((o) => o === 'forbidden' || o === 'not_found') : [];
  return oneOf(why, 'bad_request', ...lookups);
}

/** Why an outcome breaks the expectation, or null when it meets it. */
export function unmet(expectation: Expectation, outcome: Outcome): string | null {
  if (expectation.kind === 'any') return null;
  if (expectation.outcomes.includes(outcome) || TRANSIENT_OUTCOMES.includes(outcome)) return null;
  return `expected ${expectation.outcomes.join(' or ')} (${expectation.why}), got ${outcome}`;
}

/** The expectation in words, for violation reports. */
export const describe = (expectation: Expectation): string =>
  expectation.kind === 'any' ? 'any documented code' : `${expectation.outcomes.join('|')} (${expectation.why})`;
