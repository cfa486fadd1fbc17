import t from 'tap';
import { parseChatArgs } from '../src/bin/chat-args.ts';
import { parseChatLine } from '../src/bin/chat-commands.ts';

t.test('lines become commands', async (t) => {
  t.same(parseChatLine('hello there'), { kind: 'send', text: 'hello there' });
  t.same(parseChatLine('  padded  '), { kind: 'send', text: 'padded' });
  t.same(parseChatLine('//slash first'), { kind: 'send', text: '/slash first' });
  t.same(parseChatLine(''), { kind: 'empty' });
  t.same(parseChatLine('/direct bob'), { kind: 'direct', name: 'bob' });
  t.same(parseChatLine('/group friends bob carol'), { kind: 'group', title: 'friends', members: ['bob', 'carol'] });
  t.same(parseChatLine('/list'), { kind: 'list' });
  t.same(parseChatLine('/history'), { kind: 'history' });
  t.same(parseChatLine('/switch 2'), { kind: 'switch', index: 2 });
  t.same(parseChatLine('/quit'), { kind: 'quit' });
  t.same(parseChatLine('/help'), { kind: 'help' });
});

t.test('malformed commands explain themselves', async (t) => {
  for (const line of ['/direct', '/direct bob carol', '/group friends', '/switch', '/switch 0', '/switch x', '/frobnicate']) {
    t.equal(parseChatLine(line).kind, 'invalid', line);
  }
});

t.test('command-line options', async (t) => {
  // No --secret: the chat finds the node's key itself (findSigningSecret), never a built-in default.
  t.same(parseChatArgs(['--as', 'alice']), { name: 'alice', url: 'ws://127.0.0.1:8080/ws', secret: undefined, encoding: 'json' });
  t.same(parseChatArgs(['--as=bob', '--url', 'ws://h:1/ws', '--secret', 's', '--msgpack']), {
    name: 'bob',
    url: 'ws://h:1/ws',
    secret: 's',
    encoding: 'msgpack',
  });
  t.equal(parseChatArgs(['--help']), 'help');
  t.throws(() => parseChatArgs([]), /--as/);
  t.throws(() => parseChatArgs(['--as', 'a', '--bogus']));
  t.throws(() => parseChatArgs(['--as', 'a', '--secret', '']), /--secret must not be empty/);
});
