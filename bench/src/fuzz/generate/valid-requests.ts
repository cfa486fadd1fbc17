/**
 * Valid requests of every op the node implements (packages/protocol/src/requests.ts),
 * aimed at the caller's own conversations, at conversations that exist without
 * the caller, or at ids that name no conversation, each with the answer
 * PROTOCOL.md §5 gives it: a member gets `ok`, a non-member `forbidden`, an
 * unknown id `not_found`.
 */
import fc from 'fast-check';
import { arr, bin, map, nil, num, ref, str, type FrameNode } from '../frame/frame-node.ts';
import { oneOf, type Expectation } from '../oracle/expectation.ts';
import type { Outcome } from '../oracle/contract.ts';
import type { RequestRecipe } from './recipe.ts';
import { int32, mediaType, message, plainMetadata, uuidNode, uuidString } from './values.ts';

export type Target = 'own' | 'foreign' | 'missing';

const targetArb: fc.Arbitrary<Target> = fc.constantFrom<Target>('own', 'own', 'own', 'foreign', 'missing');

const conversationNode = (target: Target, pick: number, missing: string): FrameNode =>
  target === 'own'
    ? ref({ kind: 'own-conversation', pick })
    : target === 'foreign'
      ? ref({ kind: 'foreign-conversation', pick })
      : str(missing);

/** What PROTOCOL.md §5 answers a valid request on a conversation, by who the caller is to it. */
export function expectationFor(target: Target, whenMember: Outcome[]): Expectation {
  if (target === 'foreign') return oneOf('the caller is not a member (PROTOCOL.md §5)', 'forbidden');
  if (target === 'missing') return oneOf('no such conversation (PROTOCOL.md §5)', 'not_found');
  return oneOf('a valid request by a member', ...whenMember);
}

const idRef = fc.constantFrom<'int' | 'string'>('int', 'string').map((form) => ref({ kind: 'request-id', form }));

/** `{id, op, ...fields}` with optional fields left out when undefined. */
function request(id: FrameNode, op: string, fields: ReadonlyArray<readonly [string, FrameNode | undefined]>): FrameNode {
  const present = fields.filter((f): f is readonly [string, FrameNode] => f[1] !== undefined);
  return map([['id', id], ['op', str(op)], ...present]);
}

const recipe = (op: string, body: FrameNode, target: string, expect: Expectation): RequestRecipe => ({
  op,
  body,
  labels: [op, target],
  expect,
  reply: 'id',
});

const okExpected = oneOf('a valid request', 'ok');

const ping = idRef.map((id) => recipe('ping', request(id, 'ping', []), 'none', okExpected));

const convDirect = fc
  .tuple(idRef, fc.oneof(fc.nat().map((pick) => ({ user: ref({ kind: 'peer-user', pick }), who: 'peer' })), uuidNode.map((user) => ({ user, who: 'stranger' })), fc.constant({ user: ref({ kind: 'self-user' }), who: 'self' })))
  .map(([id, { user, who }]) =>
    recipe('conv.direct', request(id, 'conv.direct', [['user_id', user]]), who, who === 'self' ? oneOf('conv.direct with the caller\'s own id (docs/protocol.md §7)', 'bad_request') : okExpected),
  );

const convGroup = fc
  .tuple(idRef, fc.array(fc.oneof(fc.nat().map((pick) => ref({ kind: 'peer-user', pick })), uuidNode), { maxLength: 4 }), fc.option(plainMetadata, { nil: undefined }), fc.option(fc.oneof(uuidNode, fc.constant(nil)), { nil: undefined }))
  .map(([id, users, metadata, external]) =>
    recipe('conv.group', request(id, 'conv.group', [['user_ids', arr(users)], ['metadata', metadata], ['external_group_id', external]]), 'none', oneOf('a valid request', 'ok', 'conflict')),
  );

const convGet = fc.tuple(idRef, targetArb, fc.nat(), uuidString).map(([id, target, pick, missing]) =>
  recipe('conv.get', request(id, 'conv.get', [['conversation_id', conversationNode(target, pick, missing)]]), target, expectationFor(target, ['ok'])),
);

const convList = fc
  .tuple(idRef, fc.option(fc.integer({ min: 1, max: 100 }), { nil: undefined }), fc.option(fc.oneof(fc.constant(null), fc.integer({ min: 0, max: 2 ** 42 })), { nil: undefined }))
  .map(([id, limit, before]) =>
    recipe('conv.list', request(id, 'conv.list', [['limit', limit === undefined ? undefined : num(limit)], ['before', before === undefined ? undefined : before === null ? nil : num(before)]]), 'none', okExpected),
  );

const attachment = fc.tuple(uuidNode, mediaType, fc.option(plainMetadata, { nil: undefined })).map(([mediaId, type, metadata]) =>
  map([['media_id', mediaId], ['media_type', str(type)], ...(metadata === undefined ? [] : [['metadata', metadata] as const])]),
);

const msgSend = fc
  .tuple(
    idRef,
    targetArb,
    fc.nat(),
    uuidString,
    int32,
    fc.constantFrom('text', 'media'),
    message,
    fc.option(plainMetadata, { nil: undefined }),
    fc.option(fc.oneof(uuidNode, fc.constant(nil)), { nil: undefined, freq: 6 }),
    fc.option(fc.array(attachment, { maxLength: 3 }), { nil: undefined }),
  )
  .map(([id, target, pick, missing, clientRandom, type, content, metadata, replyTo, attachments]) => {
    // A random client_random may repeat one this sender used for other bytes (conflict); a random reply_to_id names no message.
    const whenMember: Outcome[] = replyTo?.t === 'str' ? ['not_found', 'conflict'] : ['ok', 'conflict'];
    return recipe(
      'msg.send',
      request(id, 'msg.send', [
        ['conversation_id', conversationNode(target, pick, missing)],
        ['client_random', num(clientRandom)],
        ['type', str(type)],
        ['content', bin(content)],
        ['metadata', metadata],
        ['reply_to_id', replyTo],
        ['attachments', attachments === undefined ? undefined : arr(attachments)],
      ]),
      target,
      expectationFor(target, whenMember),
    );
  });

const msgHistory = fc
  .tuple(idRef, targetArb, fc.nat(), uuidString, fc.option(fc.oneof(fc.constant(null), fc.integer({ min: 0, max: 1000 })), { nil: undefined }), fc.option(fc.integer({ min: 1, max: 100 }), { nil: undefined }))
  .map(([id, target, pick, missing, before, limit]) =>
    recipe(
      'msg.history',
      request(id, 'msg.history', [
        ['conversation_id', conversationNode(target, pick, missing)],
        ['before_seq', before === undefined ? undefined : before === null ? nil : num(before)],
        ['limit', limit === undefined ? undefined : num(limit)],
      ]),
      target,
      expectationFor(target, ['ok']),
    ),
  );

const receipt = fc
  .tuple(idRef, fc.constantFrom('receipt.delivered', 'receipt.read'), targetArb, fc.nat(), uuidString, fc.integer({ min: 0, max: 50 }))
  .map(([id, op, target, pick, missing, upTo]) =>
    recipe(op, request(id, op, [['conversation_id', conversationNode(target, pick, missing)], ['up_to_seq', num(upTo)]]), target, expectationFor(target, ['ok'])),
  );

const cursor = fc.tuple(targetArb, fc.nat(), uuidString, fc.integer({ min: 0, max: 100 })).map(([target, pick, missing, after]) => ({
  target,
  node: map([['conversation_id', conversationNode(target, pick, missing)], ['after_seq', num(after)]]),
}));

const sync = fc
  .tuple(idRef, fc.array(cursor, { maxLength: 4 }), fc.option(fc.integer({ min: 1, max: 100 }), { nil: undefined }))
  .map(([id, cursors, limit]) => {
    const own = cursors.every((c) => c.target === 'own');
    // PROTOCOL.md leaves open what a cursor on a conversation one is not in gets; only an all-own sync must succeed.
    return recipe('sync', request(id, 'sync', [['cursors', arr(cursors.map((c) => c.node))], ['limit', limit === undefined ? undefined : num(limit)]]), own ? 'own' : 'mixed', own ? okExpected : { kind: 'any' });
  });

/** Every implemented op, weighted toward the ones that write and route. */
export const validRequest: fc.Arbitrary<RequestRecipe> = fc.oneof(
  { arbitrary: ping, weight: 1 },
  { arbitrary: convDirect, weight: 1 },
  { arbitrary: convGroup, weight: 1 },
  { arbitrary: convGet, weight: 2 },
  { arbitrary: convList, weight: 1 },
  { arbitrary: msgSend, weight: 5 },
  { arbitrary: msgHistory, weight: 2 },
  { arbitrary: receipt, weight: 2 },
  { arbitrary: sync, weight: 1 },
);
