/**
 * Mutations of one field of a valid request: a value of the wrong type, a
 * number past its range, a nasty string, the field dropped, the request id in
 * another form. What the node must answer follows from the field's spec: a
 * certainly wrong value in a field, or a required field missing, is `bad_request`.
 */
import fc from 'fast-check';
import { entriesOf, keyName, ref, str, valueOf, withField, withoutField, type FrameNode, type IdForm } from '../frame/frame-node.ts';
import { ANY, badRequest, invalidVersionOf, type Expectation } from '../oracle/expectation.ts';
import { certainlyInvalid, FIELD_SPECS, type FieldSpec } from './field-specs.ts';
import { MANGLED_ID_FORM, replyIdFor, UNUSABLE_ID_FORMS, USABLE_ID_FORMS } from './id-forms.ts';
import type { RequestRecipe } from './recipe.ts';
import { anyTypeValue, nastyMetadata, nastyNumber, nastyString, notUtf8 } from './values.ts';

// Own properties only: an op named `constructor` must not find Object.prototype's.
const specsOf = (op: string): readonly FieldSpec[] => (Object.hasOwn(FIELD_SPECS, op) ? (FIELD_SPECS[op] ?? []) : []);

/** The spec of a field, or an optional free-form one for a field the op does not name. */
const specOf = (op: string, name: string): FieldSpec => specsOf(op).find((s) => s.name === name) ?? { name, kind: 'object', required: false };

const mutated = (base: RequestRecipe, body: FrameNode, label: string, expect: Expectation): RequestRecipe => ({
  ...base,
  body,
  labels: [...base.labels, label],
  expect,
});

/** The fields a mutation may hit: every field the op defines (present or not), and `op`. */
const fieldNames = (base: RequestRecipe): string[] => ['op', ...specsOf(base.op).map((s) => s.name)];

/** Puts `value` in field `name` and works out what the node must answer. */
function replaced(base: RequestRecipe, name: string, value: FrameNode, binary: boolean, label: string): RequestRecipe {
  const body = withField(base.body, name, value);
  if (name === 'op') {
    const valid = value.t === 'str' && value.v === base.op;
    return mutated(base, body, label, valid ? base.expect : badRequest('op must name a known op'));
  }
  const spec = specOf(base.op, name);
  const known = specsOf(base.op).some((s) => s.name === name);
  const invalid = known && certainlyInvalid(spec.kind, value, binary, spec.required);
  return mutated(base, body, label, invalid ? invalidVersionOf(base.expect, `${name} must be ${spec.kind}`) : ANY);
}

const pickField = (base: RequestRecipe): fc.Arbitrary<string> => fc.constantFrom(...fieldNames(base));

export const wrongType = (base: RequestRecipe, binary: boolean): fc.Arbitrary<RequestRecipe> =>
  fc.tuple(pickField(base), anyTypeValue).map(([name, value]) => replaced(base, name, value, binary, `wrong-type:${name}:${value.t}`));

export const numberEdge = (base: RequestRecipe, binary: boolean): fc.Arbitrary<RequestRecipe> => {
  const numeric = specsOf(base.op).filter((s) => ['int32', 'seq', 'seq-or-null', 'limit', 'time-or-null'].includes(s.kind)).map((s) => s.name);
  if (numeric.length === 0) return wrongType(base, binary);
  return fc.tuple(fc.constantFrom(...numeric), nastyNumber).map(([name, value]) => replaced(base, name, value, binary, `number-edge:${name}`));
};

/** Nasty strings in the string fields, and in metadata keys and values. */
export const stringEdge = (base: RequestRecipe, binary: boolean): fc.Arbitrary<RequestRecipe> => {
  const strings = specsOf(base.op).filter((s) => ['uuid', 'uuid-or-null', 'message-type'].includes(s.kind)).map((s) => s.name);
  const hasMetadata = specsOf(base.op).some((s) => s.name === 'metadata');
  const inField = strings.length === 0 ? null : fc.tuple(fc.constantFrom(...strings), nastyString).map(([name, value]) => replaced(base, name, str(value), binary, `string-edge:${name}`));
  const inMetadata = hasMetadata ? nastyMetadata.map((metadata) => mutated(base, withField(base.body, 'metadata', metadata), 'string-edge:metadata', ANY)) : null;
  // Not-UTF-8 str bodies in MessagePack only: in a text frame they close the connection (1007), which byte-frames covers.
  const notUtf8Value =
    binary && hasMetadata
      ? fc.tuple(notUtf8, fc.boolean()).map(([bad, asKey]) => mutated(base, withField(base.body, 'metadata', { t: 'map', entries: [asKey ? [bad, str('v')] : [str('k'), bad]] }), `not-utf8:metadata-${asKey ? 'key' : 'value'}`, ANY))
      : null;
  const attachments = valueOf(base.body, 'attachments');
  const inMediaType =
    attachments?.t === 'arr' && attachments.items[0] !== undefined
      ? nastyString.map((value) =>
          mutated(
            base,
            withField(base.body, 'attachments', { t: 'arr', items: [withField(attachments.items[0] as FrameNode, 'media_type', str(value)), ...attachments.items.slice(1)] }),
            'string-edge:media_type',
            ANY,
          ),
        )
      : null;
  const choices = [inField, inMetadata, notUtf8Value, inMediaType].filter((a): a is fc.Arbitrary<RequestRecipe> => a !== null);
  return choices.length === 0 ? wrongType(base, binary) : fc.oneof(...choices);
};

export const dropField = (base: RequestRecipe): fc.Arbitrary<RequestRecipe> => {
  const present = entriesOf(base.body).map(([k]) => keyName(k)).filter((k): k is string => k !== null);
  return fc.constantFrom(...present).map((name) => {
    const body = withoutField(base.body, name);
    const label = `missing:${name}`;
    // docs/protocol.md suggests a bare {"op": "ping"} for clients that cannot answer pings: a missing id is not certainly wrong.
    if (name === 'id') return { ...mutated(base, body, label, ANY), reply: 'null' as const };
    if (name === 'op') return mutated(base, body, label, badRequest('op is required'));
    const spec = specOf(base.op, name);
    if (spec.required) return mutated(base, body, label, invalidVersionOf(base.expect, `${name} is required`));
    // Without its reply_to_id a send no longer names a missing message: what it gets is no longer the base's.
    return mutated(base, body, label, name === 'reply_to_id' ? ANY : base.expect);
  });
};

/** The request id in another form: odd but valid ones keep the expectation, unusable ones are bad_request with re null. */
export const idForm = (base: RequestRecipe, binary: boolean): fc.Arbitrary<RequestRecipe> =>
  // JSON carries bytes as base64 text: a bin id there is just another string id.
  fc.constantFrom<IdForm>(...USABLE_ID_FORMS, ...UNUSABLE_ID_FORMS.filter((f) => binary || f !== 'bin'), MANGLED_ID_FORM).map((form) => {
    const body = withField(base.body, 'id', ref({ kind: 'request-id', form }));
    const reply = replyIdFor(form);
    const expect = reply === 'id' ? base.expect : reply === 'null' ? invalidVersionOf(base.expect, 'id must be a string of at most 128 characters or an integer') : ANY;
    return { ...mutated(base, body, `id-form:${form}`, expect), reply };
  });

/** A field's value, for mutations that move it (nested copies, duplicates). */
export const fieldValue = (base: RequestRecipe, name: string): FrameNode | undefined => valueOf(base.body, name);
