/**
 * The fuzzer's frame distribution: mostly requests (valid, or with one or two
 * mutations), then frames wrong below the field level, and rarely the frames
 * that end a connection (over max_frame_bytes, not UTF-8 in a text frame, a
 * streak of 20 undecodable frames). Recipe i of a run is regenerated from the
 * run's seed and i alone (see recipeAt).
 */
import fc from 'fast-check';
import { badStreak, interleavedStreak, jsonSyntax, notAnObject, notUtf8Text, randomBytes, randomText, trailingBytes, truncated } from './byte-frames.ts';
import { base64Edge } from './content-edges.ts';
import { dropField, idForm, numberEdge, stringEdge, wrongType } from './mutate-fields.ts';
import { deepNesting, extensionValue, hugeArray, lyingHeader, overFrameLimit, overLimit } from './mutate-sizes.ts';
import { duplicateKey, escapedKeys, extraKeys, nestedDecoys, prototypeKey } from './mutate-structure.ts';
import { ANY, badRequest, oneOf } from '../oracle/expectation.ts';
import { hasRepeatedKey } from '../frame/frame-node.ts';
import type { FrameRecipe, RequestRecipe } from './recipe.ts';
import { unknownOpRequest } from './unknown-ops.ts';
import { validRequest } from './valid-requests.ts';

type Weighted<T> = { arbitrary: fc.Arbitrary<T>; weight: number };

const requestBase: fc.Arbitrary<RequestRecipe> = fc.oneof({ arbitrary: validRequest, weight: 12 }, { arbitrary: unknownOpRequest, weight: 1 });

/** One mutation of a request, among those that make sense for its op and its encoding. */
function mutation(base: RequestRecipe, binary: boolean): fc.Arbitrary<RequestRecipe> {
  const choices: Array<Weighted<RequestRecipe>> = [
    { arbitrary: wrongType(base, binary), weight: 14 },
    { arbitrary: numberEdge(base, binary), weight: 8 },
    { arbitrary: stringEdge(base, binary), weight: 8 },
    { arbitrary: dropField(base), weight: 6 },
    { arbitrary: idForm(base, binary), weight: 8 },
    { arbitrary: extraKeys(base), weight: 6 },
    { arbitrary: duplicateKey(base, binary), weight: 10 },
    { arbitrary: nestedDecoys(base), weight: 8 },
    { arbitrary: prototypeKey(base), weight: 3 },
    { arbitrary: deepNesting(base), weight: 3 },
    { arbitrary: hugeArray(base), weight: 2 },
    { arbitrary: lyingHeader(base), weight: 2 },
  ];
  if (!binary) choices.push({ arbitrary: escapedKeys(base), weight: 6 });
  if (binary) choices.push({ arbitrary: extensionValue(base), weight: 4 });
  if (base.op === 'msg.send') choices.push({ arbitrary: overLimit(base), weight: 3 }, { arbitrary: base64Edge(base, binary), weight: 4 });
  return fc.oneof(...choices);
}

/**
 * A request as a frame. Whatever mutations led to it, a top-level key that
 * repeats (plainly, escaped, behind a wider header) makes it `bad_request`.
 */
const asFrame =
  (binary: boolean) =>
  (request: RequestRecipe): FrameRecipe => {
    const repeated = hasRepeatedKey(request.body);
    return {
      binary,
      body: request.body,
      labels: request.labels,
      expect: repeated ? badRequest('a repeated top-level key (PROTOCOL.md §3)') : request.expect,
      // Refused as a whole frame: the node may or may not have read an id first.
      reply: repeated ? 'either' : request.reply,
      decodes: 'object',
    };
  };

/** The field a mutation changed (its label is `kind:field:…`), or null for mutations of the whole shape. */
function fieldOf(recipe: RequestRecipe): string | null {
  const [kind, field] = (recipe.labels[recipe.labels.length - 1] ?? '').split(':');
  if (kind === 'id-form') return 'id';
  if (kind === 'base64' || kind === 'base64-odd' || kind === 'content' || kind === 'over-limit' || kind === 'at-limit') return field === 'metadata' ? 'metadata' : 'content';
  if (kind === 'deep' || kind === 'not-utf8') return field === 'x' ? 'x' : 'metadata';
  if (kind === 'nested-decoys') return field === 'metadata' ? 'metadata' : 'x';
  return ['wrong-type', 'number-edge', 'string-edge', 'missing', 'duplicate-key', 'huge-array', 'lying-header', 'extension'].includes(kind ?? '') ? (field ?? null) : null;
}

/**
 * Two mutations of one field do not stack: the second would undo the first, and
 * what the frame must get could no longer be worked out from the first's.
 */
const sameField = (once: RequestRecipe, twice: RequestRecipe): boolean => {
  const field = fieldOf(once);
  return field !== null && field === fieldOf(twice);
};

/**
 * Two mutations, the second applied to the first's result. After a first one
 * that leaves the answer open, so does the pair; when both make the request
 * invalid, either refusal may come first.
 */
function stacked(once: RequestRecipe, twice: RequestRecipe): RequestRecipe {
  // A null reply stays possible if either mutation made it so.
  const reply = once.reply === twice.reply ? twice.reply : once.reply === 'id' ? twice.reply : twice.reply === 'id' ? once.reply : 'either';
  if (once.expect.kind === 'any') return { ...twice, reply, expect: ANY };
  const mustFail = (r: RequestRecipe): boolean => r.expect.kind === 'one-of' && !r.expect.outcomes.includes('ok');
  if (mustFail(once) && mustFail(twice) && once.expect.kind === 'one-of' && twice.expect.kind === 'one-of') {
    return { ...twice, reply, expect: oneOf(`${once.expect.why}; or ${twice.expect.why}`, ...new Set([...once.expect.outcomes, ...twice.expect.outcomes])) };
  }
  return { ...twice, reply };
}

/** A request as it is, mutated once, or mutated twice. */
const requestFrame = (binary: boolean): fc.Arbitrary<FrameRecipe> =>
  requestBase
    .chain((base) =>
      fc.oneof(
        { arbitrary: fc.constant(base), weight: 30 },
        { arbitrary: mutation(base, binary), weight: 60 },
        {
          arbitrary: mutation(base, binary).chain((once) =>
            mutation(once, binary)
              .filter((twice) => !sameField(once, twice))
              .map((twice) => stacked(once, twice)),
          ),
          weight: 10,
        },
      ),
    )
    .map(asFrame(binary));

/** Weights per 2,000 frames of one encoding. */
function frameOf(binary: boolean): fc.Arbitrary<FrameRecipe> {
  const choices: Array<Weighted<FrameRecipe>> = [
    { arbitrary: requestFrame(binary), weight: 1850 },
    { arbitrary: validRequest.chain((base) => truncated(base, binary)), weight: 50 },
    { arbitrary: validRequest.chain((base) => trailingBytes(base, binary)), weight: 15 },
    { arbitrary: notAnObject(binary), weight: 20 },
    { arbitrary: randomBytes(binary), weight: binary ? 25 : 2 },
    { arbitrary: validRequest.chain(overFrameLimit).map(asFrame(binary)), weight: 2 },
    { arbitrary: badStreak.map((streak) => ({ ...streak, binary })), weight: 1 },
    { arbitrary: interleavedStreak.map((burst) => ({ ...burst, binary })), weight: 1 },
  ];
  if (!binary) {
    choices.push(
      { arbitrary: randomText, weight: 15 },
      { arbitrary: jsonSyntax, weight: 15 },
      { arbitrary: validRequest.chain(notUtf8Text), weight: 3 },
    );
  }
  return fc.oneof(...choices);
}

export const frameRecipe: fc.Arbitrary<FrameRecipe> = fc.boolean().chain(frameOf);

/** A well-mixed 32-bit seed for frame `index` of a run seeded with `seed`. */
export function frameSeed(seed: number, index: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) | 0;
}

/**
 * Recipes are drawn in blocks: one fast-check sample call per block costs far
 * less per frame than one per frame. Frame i is element i % BLOCK of block
 * i / BLOCK, whose seed derives from the run's seed and the block number.
 */
export const BLOCK = 256;

const blocks = new Map<string, FrameRecipe[]>();

/** Recipe `index` of the run seeded with `seed`: the same on every run. */
export function recipeAt(seed: number, index: number): FrameRecipe {
  const block = Math.floor(index / BLOCK);
  const key = `${seed}:${block}`;
  let recipes = blocks.get(key);
  if (recipes === undefined) {
    recipes = fc.sample(frameRecipe, { seed: frameSeed(seed, block), numRuns: BLOCK });
    blocks.set(key, recipes);
    // Connections draw indices in increasing order: a few recent blocks are all that is ever asked for.
    if (blocks.size > 8) blocks.delete(blocks.keys().next().value as string);
  }
  const recipe = recipes[index % BLOCK];
  if (recipe === undefined) throw new Error('fast-check produced too few samples');
  return recipe;
}
