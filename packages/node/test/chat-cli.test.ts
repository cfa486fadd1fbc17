/**
 * The terminal chat as a user drives it: two processes, lines on stdin, output
 * read back. Runs against a real node started for this file.
 */
import t from 'tap';
import { startTestNode, TEST_SECRET } from './helpers/test-node.ts';
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { WhisprClient, userIdFromName } from '@whispr/client';

// A real node of its own (database, Redis prefix, port), stopped when the file ends.
const testNode = await startTestNode(t);
const url: string | undefined = testNode.node.wsUrl;
const secret = TEST_SECRET;

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const tsx = join(root, 'node_modules', '.bin', 'tsx');

/**
 * The environment the tools run in: this one without the variables that choose their key,
 * so each test says which it means (else they could meet the checkout's .data secret).
 */
function toolEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env['WHISPR_JWT_SECRET'];
  delete env['WHISPR_DEV'];
  return { ...env, ...extra };
}

interface ChatOptions {
  /** Extra arguments. */
  extra?: string[];
  /** Pass --secret (the default), or leave the chat to find its key in `env`. */
  secretFlag?: boolean;
  env?: NodeJS.ProcessEnv;
}

class ChatProcess {
  readonly lines: string[] = [];
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiters: Array<() => void> = [];
  readonly exited: Promise<number | null>;

  constructor(name: string, options: ChatOptions = {}) {
    const chat = join(root, 'packages', 'client', 'src', 'bin', 'chat.ts');
    const secretArgs = options.secretFlag === false ? [] : ['--secret', secret];
    this.child = spawn(tsx, [chat, '--as', name, '--url', url ?? '', ...secretArgs, ...(options.extra ?? [])], {
      cwd: root,
      env: toolEnv(options.env),
    });
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      this.lines.push(line);
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.child.stderr.on('data', (chunk: Buffer) => this.lines.push(`stderr: ${chunk.toString()}`));
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  type(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  /** Resolves with the first output line matching, waiting for it if need be. */
  async expect(pattern: RegExp, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.find((line) => pattern.test(line));
      if (found !== undefined) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no line matching ${pattern} in:\n${this.lines.join('\n')}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill();
  }
}

if (url) {
  t.test('two chats talk through a node, with read receipts', async (t) => {
    const n = randomBytes(4).toString('hex');
    const alice = new ChatProcess(`alice${n}`);
    const bob = new ChatProcess(`bob${n}`, { extra: ['--msgpack'] });
    t.teardown(() => {
      alice.kill();
      bob.kill();
    });
    await Promise.all([alice.expect(/^connected as alice/, 60_000), bob.expect(/^connected as bob/, 60_000)]);
    await Promise.all([alice.expect(/no conversations yet/), bob.expect(/no conversations yet/)]);

    alice.type(`/direct bob${n}`);
    await alice.expect(new RegExp(`now in @bob${n}`));
    alice.type('hello bob');
    t.match(await alice.expect(/: hello bob$/), new RegExp(`^\\[\\d\\d:\\d\\d:\\d\\d\\] alice${n}: hello bob$`));

    // Bob had no conversation: the new one becomes current, so he can answer right away.
    await bob.expect(/now in @/);
    await bob.expect(/: hello bob$/);
    bob.type('hi alice');
    await alice.expect(new RegExp(`\\] bob${n}: hi alice$`));
    // Bob's chat may coalesce its read receipts: reading #2 covers #1 too.
    await alice.expect(new RegExp(`\\(bob${n} has read up to #[12]\\)`));

    alice.type('/list');
    await alice.expect(new RegExp(`1\\. @bob${n}  <- current`));
    alice.type('/history');
    await t.resolves(alice.expect(/history|older|alice.*hello bob/));

    alice.type('/quit');
    bob.type('/quit');
    t.equal(await alice.exited, 0);
    t.equal(await bob.exited, 0);
  });

  t.test('unread messages show at startup and are marked read', async (t) => {
    const n = randomBytes(4).toString('hex');
    const bob = new ChatProcess(`bob${n}`);
    t.teardown(() => bob.kill());
    await bob.expect(/^connected as/, 60_000);
    bob.type(`/direct carol${n}`);
    await bob.expect(/now in @carol/);
    bob.type('are you there?');
    await bob.expect(/: are you there\?$/);
    bob.type('/quit');
    t.equal(await bob.exited, 0);

    const carol = new ChatProcess(`carol${n}`);
    t.teardown(() => carol.kill());
    await carol.expect(/: are you there\?$/, 60_000);
    await carol.expect(/-- current: @/);
    carol.type('/list');
    const entry = await carol.expect(/^\s+1\. @/);
    t.notMatch(entry, /unread/, 'what was shown was marked read');
    carol.type('/quit');
    t.equal(await carol.exited, 0);
  });

  t.test('without --secret the chat signs with the key the environment gives a node', async (t) => {
    const n = randomBytes(4).toString('hex');
    const dave = new ChatProcess(`dave${n}`, { secretFlag: false, env: { WHISPR_JWT_SECRET: secret } });
    t.teardown(() => dave.kill());
    await dave.expect(/^connected as dave/, 60_000);
    dave.type('/quit');
    t.equal(await dave.exited, 0);

    // A key the node does not verify: the chat says which key it used.
    const erin = new ChatProcess(`erin${n}`, { secretFlag: false, env: { WHISPR_JWT_SECRET: 'not-the-node-secret' } });
    t.teardown(() => erin.kill());
    t.equal(await erin.exited, 1);
    t.match(erin.lines.join('\n'), /cannot connect.*401.*signed with WHISPR_JWT_SECRET: not the node's key\?/s);
  });

  t.test('npm run token prints a token the node accepts, and only that on stdout', async (t) => {
    const tokenCli = join(root, 'packages', 'client', 'src', 'bin', 'token.ts');
    const run = promisify(execFile);
    const name = `frank${randomBytes(4).toString('hex')}`;
    const { stdout, stderr } = await run(tsx, [tokenCli, '--as', name, '--expires', '600'], { cwd: root, env: toolEnv({ WHISPR_JWT_SECRET: secret }) });
    t.match(stdout, /^[\w-]+\.[\w-]+\.[\w-]+\n$/, 'one JWT line');
    t.match(stderr, new RegExp(`${name} \\(user ${userIdFromName(name)}\\), signed with WHISPR_JWT_SECRET, expires in 600 s`));
    const client = await WhisprClient.connect({ url: url ?? '', token: stdout.trim() });
    t.teardown(() => client.close());
    t.equal(client.userId, userIdFromName(name), 'logged in as the named user');

    await t.rejects(run(tsx, [tokenCli], { cwd: root, env: toolEnv() }), { code: 2, stderr: /give one of --as <name> or --user <uuid>/ });
  });
}
