/**
 * Request schemas (PROTOCOL.md §5), one per op, compiled once with TypeBox.
 * `validateRequest` is the single place a decoded frame becomes a typed request;
 * its errors name the offending field.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { decodeBase64Fields, type Encoding } from './codec.ts';
import { badRequest, WhisprError } from './errors.ts';
import {
  CONV_LIST_MAX, GROUP_USER_IDS_MAX, MAX_ATTACHMENTS, MAX_MEDIA_TYPE_LENGTH, MAX_MEMBERS_PER_ADD, MAX_PRESENCE_WATCH, MAX_REACTION_LENGTH,
  RETENTION_BATCH_MAX, SYNC_CURSORS_MAX,
} from './limits.ts';

export const UUID_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
const UUID_RE = new RegExp(UUID_PATTERN);
export const isUuid = (value: unknown): value is string => typeof value === 'string' && UUID_RE.test(value);

const Uuid = Type.String({ pattern: UUID_PATTERN, description: 'a lowercase hyphenated UUID' });
const Seq = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
const Int32 = Type.Integer({ minimum: -2147483648, maximum: 2147483647 });
const Metadata = Type.Record(Type.String(), Type.Unknown());
const Bytes = Type.Uint8Array();
const Time = Type.Integer({ minimum: 0, maximum: 8640000000000000 });
const RequestId = Type.Union([Type.String({ maxLength: 128 }), Type.Integer({ minimum: Number.MIN_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER })]);

const base = { id: RequestId };
const conv = { ...base, conversation_id: Uuid };
const onMessage = { ...conv, message_id: Uuid };
const Settings = Type.Record(Type.String(), Type.Unknown());
// At most MAX_REACTION_LENGTH code points: a schema counts UTF-16 units, so the
// length rule is reactionProblem's (reaction.ts), applied by the msg.react and
// msg.unreact handlers (the frame bound keeps the string small until then).
const Reaction = Type.String({ minLength: 1, description: `an emoji or short code, at most ${MAX_REACTION_LENGTH} characters (code points)` });
const Members = Type.Array(Uuid, { minItems: 1, maxItems: MAX_MEMBERS_PER_ADD });
/** type/subtype (RFC 6838 characters), so the column never holds free text. */
const MediaType = Type.String({
  minLength: 3, maxLength: MAX_MEDIA_TYPE_LENGTH, pattern: '^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*$', description: 'a MIME type',
});

export const RequestSchemas = {
  ping: Type.Object({ ...base, op: Type.Literal('ping') }),
  'conv.direct': Type.Object({ ...base, op: Type.Literal('conv.direct'), user_id: Uuid }),
  'conv.group': Type.Object({
    ...base,
    op: Type.Literal('conv.group'),
    user_ids: Type.Array(Uuid, { maxItems: GROUP_USER_IDS_MAX }),
    metadata: Type.Optional(Metadata),
    external_group_id: Type.Optional(Type.Union([Uuid, Type.Null()])),
  }),
  'conv.get': Type.Object({ ...conv, op: Type.Literal('conv.get') }),
  'conv.list': Type.Object({
    ...base,
    op: Type.Literal('conv.list'),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: CONV_LIST_MAX })),
    before: Type.Optional(Type.Union([Time, Type.Null()])),
  }),
  'msg.send': Type.Object({
    ...conv,
    op: Type.Literal('msg.send'),
    client_random: Int32,
    type: Type.Union([Type.Literal('text'), Type.Literal('media')]),
    content: Bytes,
    metadata: Type.Optional(Metadata),
    reply_to_id: Type.Optional(Type.Union([Uuid, Type.Null()])),
    attachments: Type.Optional(
      Type.Array(
        Type.Object({
          media_id: Uuid,
          media_type: MediaType,
          metadata: Type.Optional(Metadata),
        }),
        { maxItems: MAX_ATTACHMENTS },
      ),
    ),
    /** Internal calls only (INTERNAL_ONLY_FIELDS): the scheduled message this send delivers. */
    scheduled_id: Type.Optional(Uuid),
  }),
  'msg.history': Type.Object({
    ...conv,
    op: Type.Literal('msg.history'),
    before_seq: Type.Optional(Type.Union([Seq, Type.Null()])),
    limit: Type.Optional(Type.Integer({ minimum: 1 })),
  }),
  'receipt.delivered': Type.Object({ ...conv, op: Type.Literal('receipt.delivered'), up_to_seq: Seq }),
  'receipt.read': Type.Object({ ...conv, op: Type.Literal('receipt.read'), up_to_seq: Seq }),
  'conv.update': Type.Object({ ...conv, op: Type.Literal('conv.update'), metadata: Metadata }),
  'conv.settings.get': Type.Object({ ...conv, op: Type.Literal('conv.settings.get') }),
  'conv.settings.set': Type.Object({ ...conv, op: Type.Literal('conv.settings.set'), settings: Settings }),
  'member.settings.set': Type.Object({ ...conv, op: Type.Literal('member.settings.set'), settings: Settings }),
  'conv.members.add': Type.Object({ ...conv, op: Type.Literal('conv.members.add'), user_ids: Members }),
  'conv.members.remove': Type.Object({ ...conv, op: Type.Literal('conv.members.remove'), user_ids: Members }),
  'conv.leave': Type.Object({ ...conv, op: Type.Literal('conv.leave') }),
  'msg.edit': Type.Object({ ...onMessage, op: Type.Literal('msg.edit'), content: Bytes, metadata: Type.Optional(Metadata) }),
  'msg.delete': Type.Object({ ...onMessage, op: Type.Literal('msg.delete'), for_everyone: Type.Optional(Type.Boolean()) }),
  'msg.react': Type.Object({ ...onMessage, op: Type.Literal('msg.react'), reaction: Reaction }),
  'msg.unreact': Type.Object({ ...onMessage, op: Type.Literal('msg.unreact'), reaction: Reaction }),
  'msg.pin': Type.Object({ ...onMessage, op: Type.Literal('msg.pin') }),
  'msg.unpin': Type.Object({ ...onMessage, op: Type.Literal('msg.unpin') }),
  'conv.pins': Type.Object({ ...conv, op: Type.Literal('conv.pins') }),
  'msg.get': Type.Object({ ...onMessage, op: Type.Literal('msg.get') }),
  'msg.receipts': Type.Object({ ...onMessage, op: Type.Literal('msg.receipts') }),
  typing: Type.Object({ ...conv, op: Type.Literal('typing'), state: Type.Union([Type.Literal('start'), Type.Literal('stop')]) }),
  'presence.watch': Type.Object({ ...base, op: Type.Literal('presence.watch'), user_ids: Type.Array(Uuid, { maxItems: MAX_PRESENCE_WATCH }) }),
  'presence.unwatch': Type.Object({ ...base, op: Type.Literal('presence.unwatch'), user_ids: Type.Array(Uuid, { maxItems: MAX_PRESENCE_WATCH }) }),
  'sched.create': Type.Object({
    ...conv,
    op: Type.Literal('sched.create'),
    scheduled_for: Time,
    client_random: Int32,
    type: Type.Union([Type.Literal('text'), Type.Literal('media')]),
    content: Bytes,
    metadata: Type.Optional(Metadata),
  }),
  'sched.cancel': Type.Object({ ...conv, op: Type.Literal('sched.cancel'), scheduled_id: Uuid }),
  'sched.list': Type.Object({ ...base, op: Type.Literal('sched.list'), conversation_id: Type.Optional(Type.Union([Uuid, Type.Null()])) }),
  sync: Type.Object({
    ...base,
    op: Type.Literal('sync'),
    cursors: Type.Array(Type.Object({ conversation_id: Uuid, after_seq: Seq }), { maxItems: SYNC_CURSORS_MAX }),
    limit: Type.Optional(Type.Integer({ minimum: 1 })),
  }),
  /** Internal calls only (INTERNAL_ONLY_OPS): user_blocks rows of this direct conversation's pair changed; its actor re-reads its state. */
  'internal.blocks.changed': Type.Object({ ...conv, op: Type.Literal('internal.blocks.changed') }),
  /** Internal only (INTERNAL_ONLY_OPS): one bounded batch of a retention run (docs/retention.md). */
  'retention.expire': Type.Object({
    ...conv,
    op: Type.Literal('retention.expire'),
    /** Messages sent before this time (ms) become tombstones. */
    before: Type.Union([Time, Type.Null()]),
    /** Attachments of messages sent before this time (ms) are removed, the messages kept. */
    media_before: Type.Union([Time, Type.Null()]),
    /** The window scanned: seqs after_seq+1 .. after_seq+limit. */
    after_seq: Seq,
    limit: Type.Integer({ minimum: 1, maximum: RETENTION_BATCH_MAX }),
  }),
  /** Internal only (INTERNAL_ONLY_OPS): archives the conversation if it is still inactive since `inactive_before` (seed §11.2). */
  'conv.archive': Type.Object({ ...conv, op: Type.Literal('conv.archive'), inactive_before: Time }),
} satisfies Record<string, TSchema>;

export type Op = keyof typeof RequestSchemas;
export type RequestOf<O extends Op> = Static<(typeof RequestSchemas)[O]>;
export type AnyRequest = { [O in Op]: RequestOf<O> }[Op];
export type RequestId = string | number;

export const OPS: readonly Op[] = Object.keys(RequestSchemas) as Op[];
const opSet = new Set<string>(OPS);
export const isOp = (value: unknown): value is Op => typeof value === 'string' && opSet.has(value);

/** Ops that name a conversation and are routed on it (sched.list's conversation_id is an optional filter: it routes on the user). */
export const CONVERSATION_OPS = new Set<Op>(
  OPS.filter((op) => {
    const required: readonly string[] = RequestSchemas[op].required ?? [];
    return required.includes('conversation_id');
  }),
);

/**
 * Fields only code inside the service may set (a job, the gRPC API), never a
 * client: a frame from a socket that carries one is refused with bad_request
 * naming it, whatever its value (validateRequest's `internal`).
 */
export const INTERNAL_ONLY_FIELDS: { readonly [O in Op]?: readonly (keyof RequestOf<O> & string)[] } = {
  'msg.send': ['scheduled_id'],
};

/**
 * Ops only code inside the service may run (the gRPC API's SyncBlocks, the
 * maintenance jobs): not part of the client protocol. A client's frame naming
 * one is answered as an unknown op, so clients cannot tell them from ops that do
 * not exist.
 */
export const INTERNAL_ONLY_OPS: ReadonlySet<Op> = new Set<Op>(['internal.blocks.changed', 'retention.expire', 'conv.archive']);

const compiled = new Map<Op, TypeCheck<TSchema>>(OPS.map((op) => [op, TypeCompiler.Compile(RequestSchemas[op])]));

/** The request id of a decoded frame, if it has a usable one. */
export function requestIdOf(frame: unknown): RequestId | null {
  if (frame === null || typeof frame !== 'object' || Array.isArray(frame)) return null;
  const id = (frame as { id?: unknown }).id;
  if (typeof id === 'string' && id.length <= 128) return id;
  if (typeof id === 'number' && Number.isSafeInteger(id)) return id;
  return null;
}

/**
 * Turns a decoded frame into a typed request, or throws a bad_request WhisprError
 * whose message names the field. The caller has already checked it is an object.
 * JSON frames have their base64 byte fields decoded here. `internal`: the frame
 * comes from an internal call, which alone may set INTERNAL_ONLY_FIELDS.
 */
export function validateRequest(frame: Record<string, unknown>, encoding: Encoding, internal = false): AnyRequest {
  if (requestIdOf(frame) === null) throw badRequest('id', 'must be a string (at most 128 characters) or an integer');
  const op = frame.op;
  if (op === undefined) throw badRequest('op', 'is required');
  if (!isOp(op) || (!internal && INTERNAL_ONLY_OPS.has(op))) throw badRequest('op', `unknown op ${JSON.stringify(op).slice(0, 64)}`);
  if (!internal) {
    for (const field of INTERNAL_ONLY_FIELDS[op] ?? []) {
      if (field in frame) throw badRequest(field, 'may be set only by the service itself, not by a client');
    }
  }
  if (encoding === 'json') decodeBase64Fields(frame);
  const check = compiled.get(op);
  if (check === undefined) throw new WhisprError('internal', `no validator for ${op}`);
  if (check.Check(frame)) return frame as AnyRequest;
  const first = check.Errors(frame).First();
  const field = first ? first.path.replace(/^\//, '').replace(/\//g, '.') : '';
  throw badRequest(field, first ? first.message.toLowerCase() : 'is invalid');
}
