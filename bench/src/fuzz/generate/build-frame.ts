/**
 * A recipe becomes the bytes of one frame for one connection: placeholders
 * resolved, the tree encoded for its frame kind, byte edits applied, and what the
 * frame must cause worked out from the bytes themselves (over max_frame_bytes:
 * close 1009; a text frame that is not UTF-8: close 1007).
 */
import { isUtf8 } from 'node:buffer';
import { encodeJson } from '../frame/encode-json.ts';
import { encodeMsgpack } from '../frame/encode-msgpack.ts';
import { hasBareNaN, mayNotDecode } from '../frame/decode-risk.ts';
import { holdsRefusedValue } from '../frame/refused-values.ts';
import { entriesOf, keyName, type FrameNode, type IdForm } from '../frame/frame-node.ts';
import type { Expectation } from '../oracle/expectation.ts';
import { badRequest, invalidVersionOf } from '../oracle/expectation.ts';
import type { ReplyIdExpectation } from '../oracle/reply-id.ts';
import { resolverFor, type FuzzIdentity } from '../run/identity.ts';
import type { Decodes, FrameRecipe } from './recipe.ts';

export interface WireFrame {
  /** Position in the run's sequence of recipes (with the seed, enough to regenerate it). */
  index: number;
  tracking: number;
  binary: boolean;
  bytes: Buffer;
  labels: readonly string[];
  expect: Expectation;
  reply: ReplyIdExpectation;
  decodes: Decodes;
  /** Close codes this frame must cause, or null when the connection must stay open. */
  closes: readonly number[] | null;
  /** The request's id as the node decodes it, when the frame has exactly one and it survives a round trip unchanged. */
  idValue?: unknown;
}

/** The decoded id of each form, where the echo must be exactly it (not for strings a decoder may mangle). */
function idValueOf(form: IdForm, t: number, binary: boolean): unknown {
  switch (form) {
    case 'int':
    case 'int-as-float':
    case 'int-as-int64':
      return t;
    case 'negative-int':
      return -t;
    case 'string':
      return `f${t}`;
    case 'fraction':
      return t + 0.5;
    case 'unsafe-int':
      return 2 ** 53 + 2 * t;
    case 'nan':
      // Never equal to any re: an echo of it is wrong whatever it says.
      return binary ? NaN : Infinity;
    default:
      return undefined;
  }
}

function idValueFor(body: FrameNode, tracking: number, binary: boolean): unknown {
  const form = idFormOf(body);
  return form === undefined ? undefined : idValueOf(form, tracking, binary);
}

/** The id form of a frame with exactly one top-level id placeholder. */
function idFormOf(body: FrameNode): IdForm | undefined {
  const ids = entriesOf(body).filter(([k]) => keyName(k) === 'id');
  const only = ids.length === 1 ? ids[0]?.[1] : undefined;
  return only?.t === 'ref' && only.ref.kind === 'request-id' ? only.ref.form : undefined;
}

/** The close a client sees when the WebSocket library drops the connection without a close frame. */
export const LIBRARY_DROP = 1006;

/** The library's own frame cap (packages/gateway maxPayloadFor): 16 MiB, or 16 frames' worth when that is more. */
const libraryFrameCap = (maxFrameBytes: number): number => Math.min(Math.max(maxFrameBytes * 16, 16 * 1024 * 1024), 1024 * 1024 * 1024);

export function buildFrame(recipe: FrameRecipe, identity: FuzzIdentity, tracking: number, index: number): WireFrame {
  const resolve = resolverFor(identity, tracking);
  const encode = (node: FrameNode): Buffer => (recipe.binary ? encodeMsgpack(node, resolve) : encodeJson(node, resolve));
  let bytes = encode(recipe.body);
  let { expect, reply, decodes } = recipe;
  if (recipe.edit?.kind === 'replace') bytes = Buffer.from(recipe.edit.bytes);
  else if (recipe.edit?.kind === 'append') bytes = Buffer.concat([bytes, encode(recipe.edit.value)]);
  else if (recipe.edit?.kind === 'truncate' && bytes.length > 1) {
    bytes = bytes.subarray(0, Math.max(1, Math.min(bytes.length - 1, Math.floor(bytes.length * recipe.edit.keep))));
    expect = badRequest('a truncated frame cannot be decoded');
    // A JSON object's text is complete only at its last brace; a MessagePack decoder might be lenient.
    reply = recipe.binary ? 'either' : 'null';
    decodes = recipe.binary ? 'unknown' : 'not-object';
  }
  if (!recipe.binary && recipe.edit === undefined && hasBareNaN(recipe.body)) {
    // NaN is no JSON: whatever the request was, the frame cannot be decoded.
    expect = badRequest('a frame that cannot be decoded (NaN is no JSON)');
    reply = 'null';
    decodes = 'not-object';
  }
  if (decodes === 'object' && mayNotDecode(recipe.body, recipe.binary)) decodes = 'unknown';
  if (decodes !== 'not-object' && holdsRefusedValue(bytes, recipe.binary, recipe.body)) {
    expect = invalidVersionOf(expect, 'a value the database could not store unchanged (NUL, a lone surrogate, not UTF-8, not finite, past 2^53), in any field (docs/protocol.md §2)');
  }
  if (decodes !== 'object' && reply === 'id') reply = 'either';
  const closes: number[] = [];
  // The WebSocket library itself drops a text frame that is not UTF-8, and a frame over its own
  // cap, before the node sees them: 1006 then, as docs/protocol.md ("Closes") says.
  if (bytes.length > libraryFrameCap(identity.limits.max_frame_bytes)) closes.push(LIBRARY_DROP);
  else if (bytes.length > identity.limits.max_frame_bytes) closes.push(1009);
  if (!recipe.binary && !isUtf8(bytes)) closes.push(1007, LIBRARY_DROP);
  return {
    index,
    tracking,
    binary: recipe.binary,
    bytes,
    labels: recipe.labels,
    expect,
    reply,
    decodes,
    closes: closes.length === 0 ? null : closes,
    idValue: recipe.edit === undefined ? idValueFor(recipe.body, tracking, recipe.binary) : undefined,
  };
}
