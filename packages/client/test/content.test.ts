import t from 'tap';
import { contentBytes, randomClientRandom, textOf } from '../src/content.ts';
import { socketUrl } from '../src/socket.ts';

t.test('string content is UTF-8, bytes pass through', async (t) => {
  t.same([...contentBytes('é')], [0xc3, 0xa9]);
  const bytes = new Uint8Array([0, 255]);
  t.equal(contentBytes(bytes), bytes);
  t.equal(textOf({ content: contentBytes('salut 👋') }), 'salut 👋');
});

t.test('client_random is an int32 and varies', async (t) => {
  const seen = new Set<number>();
  for (let i = 0; i < 1000; i++) {
    const value = randomClientRandom();
    t.ok(Number.isInteger(value) && value >= -2147483648 && value <= 2147483647);
    seen.add(value);
  }
  t.ok(seen.size > 990, 'no more than a handful of collisions in 1000 draws');
});

t.test('socket URL carries enc, and the token only when asked to', async (t) => {
  const base = { url: 'ws://127.0.0.1:8080/ws', token: 'a.b.c' };
  t.equal(socketUrl({ ...base, encoding: 'json', tokenIn: 'header' }), 'ws://127.0.0.1:8080/ws?enc=json');
  t.equal(socketUrl({ ...base, encoding: 'msgpack', tokenIn: 'query' }), 'ws://127.0.0.1:8080/ws?enc=msgpack&token=a.b.c');
  t.equal(socketUrl({ ...base, url: 'ws://h/ws?x=1&enc=json', encoding: 'msgpack', tokenIn: 'header' }), 'ws://h/ws?x=1&enc=msgpack');
});
