/**
 * Frames the driver makes itself rather than draws: the 20 undecodable frames of
 * a deliberate 1008 streak; 20 undecodable frames each after a valid request the
 * node routes to a shard (no two consecutive: the connection must stay open);
 * and the ping it slips in when chance has lined up so many undecodable frames
 * that the 1008 rule could fire by accident.
 */
import { encodeJson } from '../frame/encode-json.ts';
import { encodeMsgpack } from '../frame/encode-msgpack.ts';
import { map, num, ref, str } from '../frame/frame-node.ts';
import { badRequest, oneOf } from '../oracle/expectation.ts';
import { BAD_FRAMES_BEFORE_1008 } from '../oracle/contract.ts';
import { buildFrame, type WireFrame } from './build-frame.ts';
import type { FrameRecipe } from './recipe.ts';
import type { FuzzIdentity } from '../run/identity.ts';

/**
 * Surely undecodable, or surely not objects. Not 0xc1 ("never used" in
 * MessagePack): msgpackr decodes it to an object of its own, so the node counts
 * it as a valid frame (reported separately, not tested here on every streak).
 */
const BAD_JSON = ['[]', '1', '"x"', '{', 'null', 'nul', '[1,', 'true', '{"id":', '}'];
const BAD_MSGPACK = [[0xca, 0x00], [0x90], [0x01], [0x81, 0xa2, 0x69], [0xc0], [0xa1, 0x61], [0xc3], [0x92, 0x01], [0xdc, 0x00], [0xcb, 0x00]];

export function streakFrames(binary: boolean, nextTracking: () => number, index: number): WireFrame[] {
  return Array.from({ length: BAD_FRAMES_BEFORE_1008 }, (_, i) => {
    const bytes = binary ? Buffer.from(BAD_MSGPACK[i % BAD_MSGPACK.length] as number[]) : Buffer.from(BAD_JSON[i % BAD_JSON.length] as string);
    return {
      index,
      tracking: nextTracking(),
      binary,
      bytes,
      labels: ['bad-streak', `${i + 1}/${BAD_FRAMES_BEFORE_1008}`],
      expect: badRequest('a frame that cannot be decoded or is not an object (PROTOCOL.md §3)'),
      reply: 'null',
      decodes: 'not-object',
      closes: null,
    };
  });
}

/** Undecodable frames, each after a valid conv.get of one of the user's conversations: never two in a row. */
export function interleavedFrames(binary: boolean, identity: FuzzIdentity, nextTracking: () => number, index: number): WireFrame[] {
  return streakFrames(binary, nextTracking, index).flatMap((bad, i) => {
    const body = map([['id', ref({ kind: 'request-id', form: 'int' })], ['op', str('conv.get')], ['conversation_id', ref({ kind: 'own-conversation', pick: i })]]);
    const recipe: FrameRecipe = { binary, body, labels: ['interleaved', 'conv.get'], expect: oneOf('a valid request by a member', 'ok'), reply: 'id', decodes: 'object' };
    return [buildFrame(recipe, identity, nextTracking(), index), { ...bad, labels: ['interleaved', `${i + 1}/${BAD_FRAMES_BEFORE_1008}`] }];
  });
}

export function fillerPing(binary: boolean, tracking: number, index: number): WireFrame {
  const body = map([['id', num(tracking)], ['op', str('ping')]]);
  const noRefs = (): never => {
    throw new Error('a filler ping has no placeholders');
  };
  return {
    index,
    tracking,
    binary,
    bytes: binary ? encodeMsgpack(body, noRefs) : encodeJson(body, noRefs),
    labels: ['filler-ping'],
    expect: oneOf('a valid ping', 'ok'),
    reply: 'id',
    decodes: 'object',
    closes: null,
  };
}
