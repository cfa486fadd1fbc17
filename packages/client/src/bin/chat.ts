/**
 * `npm run chat -- --as alice`: a terminal chat on the SDK. Reads commands and messages
 * line by line from stdin, a terminal or a pipe alike, so it can be scripted:
 *   printf '/direct bob\nhello\n/quit\n' | npm run chat -- --as alice
 */
import { createInterface } from 'node:readline';
import { WhisprUpgradeError } from '../errors.ts';
import { findSigningSecret, type SigningSecret } from '../install-secret.ts';
import { CHAT_USAGE, parseChatArgs, type ChatArgs } from './chat-args.ts';
import { ChatSession } from './chat-session.ts';

function parseOrExit(): ChatArgs {
  try {
    const args = parseChatArgs(process.argv.slice(2));
    if (args === 'help') {
      console.log(CHAT_USAGE);
      process.exit(0);
    }
    return args;
  } catch (err) {
    console.error(`chat: ${err instanceof Error ? err.message : String(err)}\n${CHAT_USAGE}`);
    process.exit(2);
  }
}

function signingSecretOrExit(args: ChatArgs): SigningSecret {
  if (args.secret !== undefined) return { secret: args.secret, source: '--secret' };
  try {
    return findSigningSecret();
  } catch (err) {
    console.error(`chat: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(2);
  }
}

async function main(): Promise<void> {
  const args = parseOrExit();
  const signing = signingSecretOrExit(args);
  const interactive = process.stdin.isTTY === true;
  let prompt: (() => void) | undefined;
  const print = (line: string): void => {
    // On a terminal, clear the half-typed prompt line first and redraw it after.
    if (interactive) process.stdout.write('\r\x1b[K');
    console.log(line);
    prompt?.();
  };
  const session = new ChatSession({
    ...args,
    secret: signing.secret,
    print,
    fatal: (err) => {
      console.error(`chat: ${err.message}`);
      process.exit(1);
    },
  });

  try {
    await session.start();
  } catch (err) {
    const why =
      err instanceof WhisprUpgradeError && err.status === 401
        ? `${err.message} (the token was signed with ${signing.source}: not the node's key? see --help)`
        : String(err instanceof Error ? err.message : err);
    console.error(`chat: cannot connect to ${args.url}: ${why}`);
    process.exit(1);
  }

  // Created only now: stdin is not read before this, so piped lines wait for the connection.
  const rl = createInterface({ input: process.stdin, output: interactive ? process.stdout : undefined, terminal: interactive });
  if (interactive) {
    rl.setPrompt('> ');
    prompt = () => rl.prompt(true);
    prompt();
  }
  for await (const line of rl) {
    if (!(await session.handleLine(line))) break;
  }
  prompt = undefined;
  rl.close();
  await session.quit();
  process.exit(0);
}

await main();
