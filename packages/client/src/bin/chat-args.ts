/** Command-line options of the terminal chat. */
import { parseArgs } from 'node:util';
import type { Encoding } from '@whispr/protocol';

export interface ChatArgs {
  name: string;
  url: string;
  secret: string;
  encoding: Encoding;
}

export const CHAT_USAGE = `usage: pnpm chat --as <name> [--url ws://127.0.0.1:8080/ws] [--secret dev-secret] [--msgpack]

Logs in as the user whose id is derived from <name> (the same name gives the same
user everywhere), with a development token signed with --secret.`;

/** Parses argv (without node and the script). Throws an Error whose message is fit to print. */
export function parseChatArgs(argv: string[]): ChatArgs | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      as: { type: 'string' },
      url: { type: 'string', default: 'ws://127.0.0.1:8080/ws' },
      secret: { type: 'string', default: 'dev-secret' },
      msgpack: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return 'help';
  const name = values.as?.trim();
  if (!name) throw new Error('--as <name> is required');
  return { name, url: values.url, secret: values.secret, encoding: values.msgpack ? 'msgpack' : 'json' };
}
