/**
 * The request fields of PROTOCOL.md §5, as the fuzzer's own independent reading
 * of the contract: which are required, and what kind of value each takes. A
 * mutation that puts a value of a certainly wrong kind in a field, or drops a
 * required one, must get `bad_request`; anything less certain (null for an
 * optional field, a number at the edge of a range the contract leaves open) only
 * has to get a documented answer.
 */
import type { FrameNode } from '../frame/frame-node.ts';

export type FieldKind =
  | 'uuid'
  | 'uuid-or-null'
  | 'int32'
  | 'seq'
  | 'seq-or-null'
  | 'limit'
  | 'time-or-null'
  | 'message-type'
  | 'bytes'
  | 'object'
  | 'uuid-array'
  | 'cursor-array'
  | 'attachment-array';

export interface FieldSpec {
  name: string;
  kind: FieldKind;
  required: boolean;
}

const field = (name: string, kind: FieldKind, required = true): FieldSpec => ({ name, kind, required });
const conversation = field('conversation_id', 'uuid');

export const FIELD_SPECS: Readonly<Record<string, readonly FieldSpec[]>> = {
  ping: [],
  'conv.direct': [field('user_id', 'uuid')],
  'conv.group': [field('user_ids', 'uuid-array'), field('metadata', 'object', false), field('external_group_id', 'uuid-or-null', false)],
  'conv.get': [conversation],
  'conv.list': [field('limit', 'limit', false), field('before', 'time-or-null', false)],
  'msg.send': [
    conversation,
    field('client_random', 'int32'),
    field('type', 'message-type'),
    field('content', 'bytes'),
    field('metadata', 'object', false),
    field('reply_to_id', 'uuid-or-null', false),
    field('attachments', 'attachment-array', false),
  ],
  'msg.history': [conversation, field('before_seq', 'seq-or-null', false), field('limit', 'limit', false)],
  'receipt.delivered': [conversation, field('up_to_seq', 'seq')],
  'receipt.read': [conversation, field('up_to_seq', 'seq')],
  sync: [field('cursors', 'cursor-array'), field('limit', 'limit', false)],
};

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const NUMERIC_KINDS = new Set<FieldKind>(['int32', 'seq', 'seq-or-null', 'limit', 'time-or-null']);
const ARRAY_KINDS = new Set<FieldKind>(['uuid-array', 'cursor-array', 'attachment-array']);

/** The JSON-level type a node decodes to, as far as a field check cares. */
function typeOf(node: FrameNode, binary: boolean): 'null' | 'boolean' | 'number' | 'string' | 'bytes' | 'array' | 'object' | 'unsure' {
  switch (node.t) {
    case 'nil':
      return 'null';
    case 'bool':
      return 'boolean';
    case 'num':
    case 'bigint':
      return 'number';
    case 'str':
      return 'string';
    case 'bin':
      // JSON carries bytes as base64 text.
      return binary ? 'bytes' : 'string';
    case 'arr':
    case 'repeat':
      return 'array';
    case 'map':
      return 'object';
    default:
      return 'unsure';
  }
}

/** True only when the contract leaves no doubt that `node` is not a `kind` value. */
export function certainlyInvalid(kind: FieldKind, node: FrameNode, binary: boolean, required: boolean): boolean {
  const type = typeOf(node, binary);
  if (type === 'unsure') return false;
  // A null optional field may fairly be read as absent.
  if (type === 'null') return required && kind !== 'uuid-or-null' && kind !== 'seq-or-null' && kind !== 'time-or-null';
  if (kind === 'uuid' || kind === 'uuid-or-null') return type !== 'string' || (node.t === 'str' && !UUID_RE.test(node.v));
  if (NUMERIC_KINDS.has(kind)) {
    if (type !== 'number') return true;
    if (node.t !== 'num') return kind === 'int32';
    // NaN, the infinities and fractions are no integers (JSON writes them as NaN, 1e400, 1.5).
    if (!Number.isInteger(node.v)) return true;
    if (kind === 'int32') return node.v < -2147483648 || node.v > 2147483647;
    if (kind === 'time-or-null') return false;
    return node.v < 0 || (kind === 'limit' && node.v < 1);
  }
  if (kind === 'message-type') return type !== 'string' || (node.t === 'str' && node.v !== 'text' && node.v !== 'media');
  if (kind === 'bytes') return binary ? type !== 'bytes' : type !== 'string';
  if (kind === 'object') return type !== 'object';
  if (ARRAY_KINDS.has(kind)) return type !== 'array';
  return false;
}
