/**
 * Type-level checks (they fail `tsc -b packages/client`, not tap): every op the
 * protocol package validates has a result type, and request/result types line up.
 */
import t from 'tap';
import type { Op } from '@whispr/protocol';
import type { WhisprClient } from '../src/client.ts';
import type { ResultMap, ResultOf, SendResult } from '@whispr/protocol';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const assertType = <T extends true>(value: T): T => value;

// An op added to requests.ts without a result type here fails this line.
type OpsWithoutResult = Exclude<Op, keyof ResultMap>;
assertType<Equal<OpsWithoutResult, never>>(true);

assertType<Equal<ResultOf<'msg.send'>, SendResult>>(true);
assertType<Equal<ResultOf<'not.an.op'>, Record<string, unknown>>>(true);
assertType<Equal<Awaited<ReturnType<WhisprClient['request']>>, ResultOf<Op>>>(true);

// request() takes the op's fields without id/op: a missing or misspelt field does not compile.
type SendFields = Parameters<WhisprClient['request']>[1];
declare const client: WhisprClient;
export const compileOnly = (): unknown[] => [
  client.request('conv.direct', { user_id: 'u' }),
  // @ts-expect-error user_id is required
  client.request('conv.direct', {}),
  // @ts-expect-error content must be bytes, the typed method does the string conversion
  client.request('msg.send', { conversation_id: 'c', client_random: 1, type: 'text', content: 'hi' }),
  client.send('c', { content: 'hi' }),
];
export type { SendFields };

t.test('result types cover every validated op', async (t) => {
  t.pass('checked by the type checker');
});
