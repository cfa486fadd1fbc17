/**
 * Edge cases of msg.send's `content`, which is bytes: padded standard base64 in
 * JSON, bin in MessagePack (PROTOCOL.md §2). Anything else in JSON (no padding,
 * the URL-safe alphabet, whitespace, padding in the middle) is the wrong type;
 * in MessagePack a str is. Odd but valid spellings (empty, non-zero trailing
 * bits) only have to get a documented answer.
 */
import fc from 'fast-check';
import { bin, str, withField, type FrameNode } from '../frame/frame-node.ts';
import { ANY, invalidVersionOf } from '../oracle/expectation.ts';
import type { RequestRecipe } from './recipe.ts';

const INVALID_BASE64 = [
  'aGk',
  'aGk==',
  'a',
  '=',
  '====',
  'aG=k',
  'aGk=\n',
  ' aGk=',
  'aGk= ',
  'aG k=',
  '-_-_',
  'aGk*',
  'aGk=aGk=',
  'YQ',
  '\u0000AAA',
  'ＡＡＡＡ',
  'A'.repeat(4097),
  'data:;base64,aGk=',
];

const ODD_VALID_BASE64 = ['', 'aGl=', 'AAAA', 'YQ==', '////', '+/+/'];

export const base64Edge = (base: RequestRecipe, binary: boolean): fc.Arbitrary<RequestRecipe> => {
  const invalid = fc.constantFrom(...INVALID_BASE64).map((text) => ({ node: str(text), valid: false, label: `base64:${JSON.stringify(text).slice(0, 16)}` }));
  const odd = fc.constantFrom(...ODD_VALID_BASE64).map((text) => ({ node: str(text), valid: !binary, label: `base64-odd:${JSON.stringify(text)}` }));
  const bytes = fc.constantFrom<{ node: FrameNode; valid: boolean; label: string }>(
    { node: bin(new Uint8Array(0)), valid: true, label: 'content:empty-bin' },
    { node: str('aGk='), valid: !binary, label: 'content:base64-string' },
  );
  return fc.oneof(invalid, odd, bytes).map(({ node, valid, label }) => ({
    ...base,
    body: withField(base.body, 'content', node),
    labels: [...base.labels, label],
    // An empty or odd body may still be refused; only a certainly wrong spelling must be.
    expect: valid ? ANY : invalidVersionOf(base.expect, binary ? 'content must be bin in MessagePack' : 'content must be padded standard base64'),
  }));
};
