/**
 * Ops the node does not implement: the ones PROTOCOL.md §5 lists that are not in
 * packages/protocol yet, with plausible fields, and names that are no op at all
 * (case and whitespace variants, NUL, prototype names). An unknown op is
 * `bad_request` (PROTOCOL.md §3). Once the node implements one of the listed ops
 * it leaves this set by itself: the expectation is read from the protocol
 * package's own op list.
 */
import fc from 'fast-check';
import { isOp } from '@whispr/protocol';
import { arr, bin, map, num, ref, str, type FrameNode } from '../frame/frame-node.ts';
import { ANY, badRequest } from '../oracle/expectation.ts';
import type { RequestRecipe } from './recipe.ts';
import { int32, plainMetadata, uuidNode } from './values.ts';

/** PROTOCOL.md §5 operations beyond the ten the node implements today. */
export const LISTED_OPS = [
  'conv.update',
  'conv.settings.get',
  'conv.settings.set',
  'member.settings.set',
  'conv.members.add',
  'conv.members.remove',
  'conv.leave',
  'msg.edit',
  'msg.delete',
  'msg.react',
  'msg.unreact',
  'msg.pin',
  'msg.unpin',
  'conv.pins',
  'msg.get',
  'msg.receipts',
  'typing',
  'presence.watch',
  'presence.unwatch',
  'sched.create',
  'sched.cancel',
  'sched.list',
] as const;

const NOT_OPS = ['MSG.SEND', 'msg.send ', ' msg.send', 'msg.send\u0000', 'msg_send', 'msg', '', 'Ping', 'constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'conv.direct.', '\ud800'];

/** Fields any of the listed ops might carry, so the frame looks like the real thing (times fixed: a seed must replay). */
const plausibleFields: fc.Arbitrary<Array<readonly [string, FrameNode]>> = fc
  .tuple(fc.nat(), uuidNode, int32, plainMetadata, fc.uint8Array({ maxLength: 40 }))
  .map(([pick, messageId, clientRandom, metadata, content]) => [
    ['conversation_id', ref({ kind: 'own-conversation', pick })],
    ['message_id', messageId],
    ['metadata', metadata],
    ['settings', map([['muted_until', num(1_900_000_000_000)]])],
    ['user_ids', arr([ref({ kind: 'peer-user', pick })])],
    ['reaction', str('👍')],
    ['state', str('start')],
    ['for_everyone', { t: 'bool', v: true }],
    ['scheduled_for', num(1_900_000_000_000)],
    ['client_random', num(clientRandom)],
    ['type', str('text')],
    ['content', bin(content)],
  ]);

/**
 * Listed ops that, run for real, change who is a member of the fuzzers'
 * conversations (leaving, removing, adding another fuzz user): later requests
 * there would get answers the oracle's world does not model (forbidden for a
 * member, ok for a non-member). Their own tests cover them.
 */
const WORLD_CHANGING = new Set<string>(['conv.leave', 'conv.members.remove', 'conv.members.add']);
const FUZZED_LISTED_OPS = LISTED_OPS.filter((op) => !(isOp(op) && WORLD_CHANGING.has(op)));

export const unknownOpRequest: fc.Arbitrary<RequestRecipe> = fc
  .tuple(fc.oneof(fc.constantFrom(...FUZZED_LISTED_OPS), fc.constantFrom(...NOT_OPS)), plausibleFields, fc.nat({ max: 12 }))
  .map(([op, fields, keep]) => ({
    op,
    body: map([['id', ref({ kind: 'request-id', form: 'int' })], ['op', str(op)], ...fields.slice(0, keep)]),
    labels: ['unknown-op', JSON.stringify(op)],
    expect: isOp(op) ? ANY : badRequest('an op the node does not know (PROTOCOL.md §3)'),
    reply: 'id',
  }));
