// reactionProblem: the rule msg.react and msg.unreact apply to a reaction string.
import t from 'tap';
import { MAX_REACTION_LENGTH, reactionProblem } from '../src/index.ts';

t.test('counts code points, not UTF-16 units', async (t) => {
  t.equal(reactionProblem('👍'), null);
  t.equal(reactionProblem('👍🏽'), null, 'an emoji with a skin tone: 2 code points');
  t.equal(reactionProblem('👨‍👩‍👧‍👦'), null, '7 code points, 11 UTF-16 units');
  t.equal(reactionProblem('😀'.repeat(MAX_REACTION_LENGTH)), null, '10 code points, 20 UTF-16 units');
  t.equal(reactionProblem('x'.repeat(MAX_REACTION_LENGTH)), null);
  t.match(reactionProblem('x'.repeat(MAX_REACTION_LENGTH + 1)), /at most 10 characters/);
  t.match(reactionProblem('😀'.repeat(MAX_REACTION_LENGTH + 1)), /at most 10 characters/);
  t.match(reactionProblem('x'.repeat(200_000)), /at most 10 characters/, 'a huge one is refused on its length alone');
});

t.test('refuses empty, blank, control characters, separators and lone surrogates', async (t) => {
  for (const bad of ['', ' ', '\u3000', 'a\u0000', '\u0001', '\t', 'a\n', '\u007f', '\u0085', '\u009f', '\u2028', '\u2029', '\ud83d', 'a\udc4d']) {
    // Named by its UTF-16 units: some of these would break the TAP line they are printed on.
    const name = Array.from({ length: bad.length }, (_, i) => `U+${bad.charCodeAt(i).toString(16).padStart(4, '0')}`).join(' ') || 'empty';
    t.type(reactionProblem(bad), 'string', name);
  }
  t.equal(reactionProblem('+1'), null, 'short codes are fine');
  t.equal(reactionProblem('a b'), null, 'an inner space is fine');
});
