/**
 * The authorization matrix of a message op (common rules of the house): who
 * gets what answer. One setup per test file: a group of alice (admin), bob and
 * dave, where dave has been removed (his member row written inactive in
 * PostgreSQL, his actor evicted so the change is loaded), carol who was never a
 * member, and a second conversation whose message ids must not reach the first.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Test } from 'tap';
import { WhisprClient, WhisprRequestError } from '@whispr/client';
import { startTestNode, type TestNode } from './test-node.ts';

export const SECRET_TEXT = 'the secret content';

export interface MatrixSetup {
  n: TestNode;
  db: pg.Client;
  alice: string;
  bob: string;
  carol: string;
  dave: string;
  a: WhisprClient;
  b: WhisprClient;
  c: WhisprClient;
  d: WhisprClient;
  /** The group of alice, bob and (removed) dave. */
  group: string;
  /** Alice's message in the group. */
  message: { id: string; seq: number };
  /** A direct conversation of alice and carol, with a message of alice's. */
  other: string;
  otherMessage: { id: string; seq: number };
  /** Marks a member inactive in PostgreSQL and has the conversation loaded again. */
  removeMember(conversationId: string, userId: string): Promise<void>;
}

/**
 * One shard holding one actor at a time: every other conversation used evicts
 * the previous actor, so a row written behind the service's back is loaded.
 */
export async function matrixSetup(t: Test): Promise<MatrixSetup> {
  const n = await startTestNode(t, { workers: 1, maxActorsPerShard: 1 });
  const db = new pg.Client({ connectionString: n.databaseUrl });
  await db.connect();
  t.teardown(() => db.end());
  const [alice, bob, carol, dave] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
  const [a, b, c, d] = await Promise.all([n.connect(alice), n.connect(bob, 'msgpack'), n.connect(carol), n.connect(dave)]);
  const group = (await a.group([bob, dave], { name: 'matrix' })).conversation.id;
  const message = (await a.send(group, { content: SECRET_TEXT, metadata: { secret: SECRET_TEXT } })).message;
  const other = (await a.direct(carol)).conversation.id;
  const otherMessage = (await a.send(other, { content: SECRET_TEXT })).message;
  const removeMember = async (conversationId: string, userId: string): Promise<void> => {
    await db.query('UPDATE conversation_members SET is_active = false WHERE conversation_id = $1 AND user_id = $2', [conversationId, userId]);
    // Another conversation's actor takes the shard's only place.
    await a.direct(randomUUID());
  };
  await removeMember(group, dave);
  return { n, db, alice, bob, carol, dave, a, b, c, d, group, message, other, otherMessage, removeMember };
}

/** The error code a request failed with ('ok' if it did not), checking that the error says nothing of the message. */
export async function codeOf(t: Test, request: Promise<unknown>): Promise<string> {
  try {
    await request;
    return 'ok';
  } catch (err) {
    if (!(err instanceof WhisprRequestError)) throw err;
    t.notOk(err.message.includes(SECRET_TEXT), 'the error carries no content');
    return err.code;
  }
}

/** A connection whose token expires in 2 s, used once it has: every request is `unauthorized`. */
export async function expiredClient(n: TestNode, userId: string): Promise<WhisprClient> {
  const expiresAtMs = (Math.floor(Date.now() / 1000) + 2) * 1000;
  const client = await WhisprClient.connect({ url: n.node.wsUrl, token: await n.token(userId, 2) });
  await new Promise((r) => setTimeout(r, Math.max(0, expiresAtMs - Date.now() + 5)));
  return client;
}

/** A message op's request, made by `client` against a conversation and message id. */
export type MessageRequest = (client: WhisprClient, conversationId: string, messageId: string) => Promise<unknown>;

/**
 * Every row of the matrix but the allowed caller's own (which each test checks
 * in detail): the answers a caller who may not do it gets.
 */
export async function checkMatrix(t: Test, s: MatrixSetup, run: MessageRequest, options: { senderOnly: boolean; namesMessage?: boolean }): Promise<void> {
  t.equal(await codeOf(t, run(s.c, s.group, s.message.id)), 'forbidden', 'a non-member: forbidden');
  t.equal(await codeOf(t, run(s.d, s.group, s.message.id)), 'forbidden', 'a removed member: forbidden');
  t.equal(await codeOf(t, run(s.a, randomUUID(), s.message.id)), 'not_found', 'no such conversation: not_found');
  if (options.namesMessage !== false) {
    t.equal(await codeOf(t, run(s.a, s.group, s.otherMessage.id)), 'not_found', 'a message of another conversation: not_found');
    t.equal(await codeOf(t, run(s.b, s.group, s.otherMessage.id)), 'not_found', 'another conversation’s message, asked by a member: not_found');
    t.equal(await codeOf(t, run(s.a, s.group, randomUUID())), 'not_found', 'no such message: not_found');
  }
  if (options.senderOnly) t.equal(await codeOf(t, run(s.b, s.group, s.message.id)), 'forbidden', 'a member who is not the sender: forbidden');
  const expired = await expiredClient(s.n, s.alice);
  t.equal(await codeOf(t, run(expired, s.group, s.message.id)), 'unauthorized', 'an expired token: unauthorized');
  await expired.close().catch(() => undefined /* the server closes it with 4001 */);
}
