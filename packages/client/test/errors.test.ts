import t from 'tap';
import { ErrorCode } from '@whispr/protocol';
import { WhisprConnectionClosedError, WhisprRequestError, WhisprTimeoutError, WhisprUpgradeError } from '../src/errors.ts';
import { PendingRequests } from '../src/pending.ts';

t.test('WhisprRequestError carries code, message and details', async (t) => {
  const err = new WhisprRequestError('msg.send', 3, { code: ErrorCode.RateLimited, message: 'over rate', retry_after_ms: 120 });
  t.ok(err instanceof Error);
  t.equal(err.name, 'WhisprRequestError');
  t.equal(err.code, 'rate_limited');
  t.equal(err.message, 'over rate');
  t.equal(err.op, 'msg.send');
  t.equal(err.requestId, 3);
  t.same(err.details, { retry_after_ms: 120 });
  t.equal(err.retryAfterMs, 120);
  t.equal(err.retryable, true);

  const field = new WhisprRequestError('conv.get', 1, { code: ErrorCode.BadRequest, message: 'conversation_id: bad', field: 'conversation_id' });
  t.equal(field.retryAfterMs, undefined);
  t.equal(field.retryable, false);
  t.equal(field.details.field, 'conversation_id');
  t.equal(new WhisprRequestError('x', 1, { code: ErrorCode.Unavailable, message: '' }).retryable, true);
});

t.test('an unknown code from a newer server is kept as is', async (t) => {
  t.equal(new WhisprRequestError('x', 1, { code: 'quota_exceeded', message: 'm' }).code, 'quota_exceeded');
  t.equal(new WhisprRequestError('x', 1, { message: 'm' }).code, 'internal');
});

t.test('connection, upgrade and timeout errors say what happened', async (t) => {
  const closed = new WhisprConnectionClosedError(4008, 'slow consumer');
  t.equal(closed.closeCode, 4008);
  t.equal(closed.reason, 'slow consumer');
  t.match(closed.message, /4008: slow consumer/);
  const refused = new WhisprUpgradeError(401, 'Unauthorized');
  t.equal(refused.status, 401);
  t.match(refused.message, /HTTP 401 Unauthorized/);
  const late = new WhisprTimeoutError('ping', 2, 50);
  t.equal(late.timeoutMs, 50);
  t.match(late.message, /ping.*50 ms/);
});

t.test('pending requests settle by id, in any order', async (t) => {
  const pending = new PendingRequests();
  const first = pending.add(1, 'ping', 0);
  const second = pending.add(2, 'conv.get', 0);
  t.equal(pending.size, 2);
  t.equal(pending.settle({ re: 2, ok: false, error: { code: ErrorCode.NotFound, message: 'no such conversation' } }), true);
  t.equal(pending.settle({ re: 1, ok: true, server_time: 42 }), true);
  t.same(await first, { server_time: 42 }, 're and ok are stripped');
  await t.rejects(second, { name: 'WhisprRequestError', code: 'not_found', op: 'conv.get', requestId: 2 });
  t.equal(pending.settle({ re: 1, ok: true }), false, 'a second reply to the same id matches nothing');
  t.equal(pending.settle({ re: null, ok: false, error: { code: ErrorCode.BadRequest, message: 'x' } }), false);
  t.equal(pending.size, 0);
});

t.test('pending requests time out and are all rejected on close', async (t) => {
  const pending = new PendingRequests();
  const slow = pending.add(1, 'sync', 20);
  await t.rejects(slow, { name: 'WhisprTimeoutError', op: 'sync', timeoutMs: 20 });
  t.equal(pending.settle({ re: 1, ok: true }), false, 'a reply after the timeout is unmatched');

  const a = pending.add(2, 'ping', 1000);
  const b = pending.add(3, 'ping', 0);
  pending.rejectAll(new WhisprConnectionClosedError(1001, 'going away'));
  await t.rejects(a, { name: 'WhisprConnectionClosedError', closeCode: 1001 });
  await t.rejects(b, { name: 'WhisprConnectionClosedError', closeCode: 1001 });
  t.equal(pending.size, 0);
});

t.test('every way out of the table frees a slot, except closing', async (t) => {
  let freed = 0;
  const pending = new PendingRequests(() => freed++);
  const a = pending.add(1, 'ping', 0);
  const b = pending.add(2, 'ping', 10);
  const c = pending.add(3, 'ping', 0);
  const d = pending.add(4, 'ping', 0);
  pending.settle({ re: 1, ok: true });
  await t.rejects(b, { name: 'WhisprTimeoutError' });
  pending.fail(3, new Error('send failed'));
  t.equal(freed, 3);
  await a;
  await t.rejects(c, { message: 'send failed' });
  pending.rejectAll(new WhisprConnectionClosedError(1006, ''));
  await t.rejects(d, { name: 'WhisprConnectionClosedError' });
  t.equal(freed, 3, 'nothing to send after a close');
});
