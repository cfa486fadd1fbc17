// The launcher's command line: defaults, every value checked, a message that names what is wrong.
import t from 'tap';
import { parseCommand, UsageError } from '../src/launch-args.ts';

t.test('defaults and values', async (t) => {
  t.same(parseCommand([]), { kind: 'launch', args: { nodes: 3, port: 8080, workers: undefined, readyTimeoutMs: 120_000, stopTimeoutMs: 20_000 } });
  t.same(parseCommand(['--nodes', '5', '--port', '9000', '--workers', '0', '--ready-timeout', '30', '--stop-timeout', '5']), {
    kind: 'launch', args: { nodes: 5, port: 9000, workers: 0, readyTimeoutMs: 30_000, stopTimeoutMs: 5000 },
  });
  t.same(parseCommand(['--nodes=2']), { kind: 'launch', args: { nodes: 2, port: 8080, workers: undefined, readyTimeoutMs: 120_000, stopTimeoutMs: 20_000 } });
  t.same(parseCommand(['--help']), { kind: 'help' });
  t.same(parseCommand(['status', '-h']), { kind: 'help' });
  t.same(parseCommand(['status']), { kind: 'status', args: { conversation: undefined, json: false } });
  const id = '0190a3c2-7b1e-7c4d-9e2f-123456789abc';
  t.same(parseCommand(['status', '--conversation', id.toUpperCase(), '--json']), { kind: 'status', args: { conversation: id, json: true } });
});

t.test('bad values are refused with the option named', async (t) => {
  const refused = (argv: string[], pattern: RegExp): void => {
    let thrown: unknown = null;
    try {
      parseCommand(argv);
    } catch (err) {
      thrown = err;
    }
    t.ok(thrown instanceof UsageError && pattern.test(thrown.message), `${argv.join(' ')} → ${String(thrown)}`);
  };
  refused(['--nodes', '0'], /--nodes: expected an integer from 1 to 64, got 0/);
  refused(['--nodes', '65'], /--nodes/);
  refused(['--nodes', '2x'], /--nodes.*"2x"/);
  refused(['--nodes', '1e1'], /--nodes/);
  refused(['--port', '0'], /--port/);
  refused(['--port', '65535', '--nodes', '2'], /2 consecutive ports from 65535 pass 65535/);
  refused(['--workers', '-1'], /--workers/);
  refused(['--ready-timeout', '0'], /--ready-timeout/);
  refused(['--bogus'], /bogus/);
  refused(['--nodes'], /nodes/);
  refused(['stats'], /unknown command "stats"/);
  refused(['status', '--conversation', 'nope'], /--conversation: expected a conversation id/);
  refused(['status', '--nodes', '2'], /nodes/);
});
