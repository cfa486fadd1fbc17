/**
 * Mutations of a request's shape rather than one value: extra keys, repeated
 * top-level keys, routing keys (`op`, `conversation_id`, `id`) planted as decoys
 * inside nested objects ahead of the real ones, keys spelled with JSON escapes,
 * and prototype names. What routes a request must be exactly what runs
 * (PROTOCOL.md §3): a repeated key is `bad_request`; decoys and escaped
 * spellings change nothing.
 */
import fc from 'fast-check';
import { entriesOf, keyName, map, num, ref, str, valueOf, withEntryAt, withField, type FrameEntry, type FrameNode } from '../frame/frame-node.ts';
import { ANY } from '../oracle/expectation.ts';
import { DECOY_ID_BASE } from '../oracle/reply-id.ts';
import type { RequestRecipe } from './recipe.ts';
import { anyTypeValue, nastyString, uuidNode } from './values.ts';

const PROTOTYPE_NAMES = ['__proto__', 'constructor', 'prototype'];

const extraKeyName = fc.oneof(
  fc.constantFrom('x', 're', 'ok', 'ev', 'error', 'user', 'sender_id', 'seq', ...PROTOTYPE_NAMES, 'k'.repeat(1000)),
  nastyString,
  fc.string({ maxLength: 20 }),
);

const present = (base: RequestRecipe): string[] => entriesOf(base.body).map(([k]) => keyName(k)).filter((k): k is string => k !== null);

/** Unknown fields are ignored (docs/protocol.md §2), unless a prototype name changes what the decoder builds. */
export const extraKeys = (base: RequestRecipe): fc.Arbitrary<RequestRecipe> =>
  fc.array(fc.tuple(extraKeyName, anyTypeValue, fc.nat()), { minLength: 1, maxLength: 3 }).map((extras) => {
    let body = base.body;
    for (const [name, value, position] of extras) body = withEntryAt(body, position % (entriesOf(body).length + 1), [str(name), value]);
    const prototype = extras.some(([name]) => PROTOTYPE_NAMES.includes(name));
    return { ...base, body, labels: [...base.labels, `extra-keys:${extras.map(([n]) => JSON.stringify(n).slice(0, 24)).join(',')}`], expect: prototype ? ANY : base.expect };
  });

/** A second value for a repeated key: the same one, or one that would route or run differently. */
function rivalValue(name: string, original: FrameNode | undefined, pick: number, uuid: FrameNode): FrameNode[] {
  const same = original === undefined ? [] : [original];
  switch (name) {
    case 'id':
      return [ref({ kind: 'request-id', form: 'string' }), ...same];
    case 'op':
      return [str('conv.group'), str('conv.direct'), str('ping'), str('msg.send'), ...same];
    case 'conversation_id':
      return [ref({ kind: 'foreign-conversation', pick }), ref({ kind: 'own-conversation', pick }), uuid, ...same];
    default:
      return [...same, num(1)];
  }
}

/**
 * JSON spellings of a key that decode to the same name: one letter escaped as
 * \\uXXXX (lower or upper hex), or every UTF-16 unit escaped. Everything else is
 * escaped as JSON.stringify would, so quotes and backslashes in a name stay valid.
 */
export function escapedSpelling(name: string, variant: number): string {
  const unicodeEscape = (unit: string, upper: boolean): string => {
    const hex = unit.charCodeAt(0).toString(16).padStart(4, '0');
    return `\\u${upper ? hex.toUpperCase() : hex}`;
  };
  const units = name.split('');
  if (variant % 3 === 2) return `"${units.map((u) => unicodeEscape(u, false)).join('')}"`;
  const letters = units.map((u, i) => (/[A-Za-z0-9_.]/.test(u) ? i : -1)).filter((i) => i >= 0);
  const at = letters.length === 0 ? -1 : (letters[variant % letters.length] as number);
  return `"${units.map((u, i) => (i === at ? unicodeEscape(u, variant % 3 === 1) : JSON.stringify(u).slice(1, -1))).join('')}"`;
}

/** A repeated top-level key, plain or (in JSON) escaped, or (in MessagePack) behind a wider str header (what it must get is settled in asFrame). */
export const duplicateKey = (base: RequestRecipe, binary: boolean): fc.Arbitrary<RequestRecipe> =>
  fc
    .tuple(fc.constantFrom(...present(base)), fc.nat(), uuidNode, fc.nat(), fc.nat({ max: 2 }), fc.boolean())
    .chain(([name, pick, uuid, position, spelling, first]) =>
      fc.constantFrom(...rivalValue(name, valueOf(base.body, name), pick, uuid)).map((rival) => {
        const key: FrameNode =
          spelling === 0 ? str(name) : binary ? { t: 'str', v: name, mp: 'str8' } : { t: 'str', v: name, json: escapedSpelling(name, position) };
        const entry: FrameEntry = [key, rival];
        const body = first ? withEntryAt(base.body, 0, entry) : withEntryAt(base.body, entriesOf(base.body).length - (position % 2), entry);
        return {
          ...base,
          body,
          labels: [...base.labels, `duplicate-key:${name}${spelling === 0 ? '' : binary ? ':str8' : ':escaped'}`],
        };
      }),
    );

const decoyOps = fc.constantFrom('conv.group', 'conv.direct', 'msg.send', 'conv.get', 'ping', 'sync');
const decoyEntries = fc
  .tuple(decoyOps, fc.oneof(fc.nat().map((pick) => ref({ kind: 'foreign-conversation', pick })), uuidNode), fc.nat({ max: 1000 }), fc.subarray(['op', 'conversation_id', 'id'], { minLength: 1 }))
  .map(([op, conversation, n, names]) =>
    names.map((name): readonly [string, FrameNode] =>
      name === 'op' ? ['op', str(op)] : name === 'conversation_id' ? ['conversation_id', conversation] : ['id', num(DECOY_ID_BASE + n)],
    ),
  );

/**
 * Routing keys nested ahead of the real ones: inside metadata (or an attachment's)
 * where the op has one, else inside an unknown field; the container goes first so
 * a byte-level peek meets the decoys before the real keys.
 */
export const nestedDecoys = (base: RequestRecipe): fc.Arbitrary<RequestRecipe> =>
  fc.tuple(decoyEntries, fc.constantFrom('metadata', 'unknown-field', 'array')).map(([decoys, where]) => {
    const hasMetadata = base.op === 'msg.send' || base.op === 'conv.group';
    let container: FrameEntry;
    if (where === 'metadata' && hasMetadata) {
      const existing = valueOf(base.body, 'metadata');
      container = [str('metadata'), map([...decoys, ...entriesOf(existing ?? map([])).map(([k, v]) => [keyName(k) ?? 'k', v] as const)])];
    } else if (where === 'array') container = [str('x'), { t: 'arr', items: [map(decoys)] }];
    else container = [str('x'), map(decoys)];
    const name = keyName(container[0]) ?? 'x';
    const rest = entriesOf(base.body).filter(([k]) => keyName(k) !== name);
    return {
      ...base,
      body: { t: 'map', entries: [container, ...rest] },
      labels: [...base.labels, `nested-decoys:${where}:${decoys.map(([k]) => k).join('+')}`],
    };
  });

/** Top-level keys (and the op's value) spelled with JSON escapes: the same request once parsed. */
export const escapedKeys = (base: RequestRecipe): fc.Arbitrary<RequestRecipe> =>
  fc.tuple(fc.subarray(present(base), { minLength: 1 }), fc.nat(), fc.boolean(), decoyEntries).map(([names, variant, withDecoy, decoys]) => {
    let body: FrameNode = {
      t: 'map',
      entries: entriesOf(base.body).map(([k, v]) => {
        const name = keyName(k);
        if (name === null || !names.includes(name)) return [k, v] as const;
        // The op's value too: its first dot escaped, everything else as JSON.stringify writes it.
        const value = name === 'op' && v.t === 'str' ? { ...v, json: JSON.stringify(v.v).replace('.', '\\u002e') } : v;
        return [{ t: 'str', v: name, json: escapedSpelling(name, variant) }, value] as const;
      }),
    };
    if (withDecoy) body = withEntryAt(body, 0, [str('x'), map(decoys)]);
    return {
      ...base,
      body,
      labels: [...base.labels, `escaped-keys:${names.join('+')}${withDecoy ? '+decoys' : ''}`],
      // Answers the node gives before decoding (over the rate, say) can only find a plainly spelled id.
      reply: names.includes('id') ? ('either' as const) : base.reply,
    };
  });

/** A prototype key whose value carries the routing keys of another request. */
export const prototypeKey = (base: RequestRecipe): fc.Arbitrary<RequestRecipe> =>
  fc.tuple(fc.constantFrom(...PROTOTYPE_NAMES), decoyEntries, fc.boolean()).map(([name, decoys, first]) => ({
    ...base,
    body: first ? withEntryAt(base.body, 0, [str(name), map(decoys)]) : withField(base.body, name, map(decoys)),
    labels: [...base.labels, `prototype-key:${name}`],
    expect: ANY,
  }));
