/** Command-line options of the terminal chat. */
import { parseArgs } from 'node:util';
import type { Encoding } from '@whispr/protocol';

export interface ChatArgs {
  name: string;
  url: string;
  /** --secret; undefined: found as a node in the same environment picks its key (findSigningSecret). */
  secret: string | undefined;
  encoding: Encoding;
}

export const DEFAULT_CHAT_URL = 'ws://127.0.0.1:8080/ws';

export const CHAT_USAGE = `usage: npm run chat -- --as <name> [--url ${DEFAULT_CHAT_URL}] [--secret <secret>] [--msgpack]

Logs in as the user whose id is derived from <name> (the same name gives the same
user everywhere), with a development token signed with --secret; without it, with
WHISPR_JWT_SECRET, else 'dev-secret' under WHISPR_DEV=1, else this install's own
secret (.data/jwt-secret, made by a node started with no key on 127.0.0.1).`;

/** Parses argv (without node and the script). Throws an Error whose message is fit to print. */
export function parseChatArgs(argv: string[]): ChatArgs | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      as: { type: 'string' },
      url: { type: 'string', default: DEFAULT_CHAT_URL },
      secret: { type: 'string' },
      msgpack: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return 'help';
  const name = values.as?.trim();
  if (!name) throw new Error('--as <name> is required');
  if (values.secret !== undefined && values.secret === '') throw new Error('--secret must not be empty');
  return { name, url: values.url, secret: values.secret, encoding: values.msgpack ? 'msgpack' : 'json' };
}
