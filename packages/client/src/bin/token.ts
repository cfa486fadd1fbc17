/**
 * `npm run token -- --as alice`: prints a development token (an HS256 JWT) for a
 * user, signed with the key a node started in the same environment verifies
 * (findSigningSecret), for curl, a browser page or any other client:
 *   TOKEN=$(npm run --silent token -- --as alice)
 * Only the token goes to stdout; what it is goes to stderr.
 */
import { parseArgs } from 'node:util';
import { isUuid } from '@whispr/protocol';
import { findSigningSecret, type SigningSecret } from '../install-secret.ts';
import { mintDevToken, userIdFromName } from '../token.ts';

const USAGE = `usage: npm run token -- (--as <name> | --user <uuid>) [--expires <seconds>] [--secret <secret>]

Prints a development token for the user whose id is derived from <name> (as the
terminal chat does) or for --user. It is signed with --secret; without it, with
WHISPR_JWT_SECRET, else 'dev-secret' under WHISPR_DEV=1, else this install's own
secret (.data/jwt-secret, made by a node started with no key on 127.0.0.1).
Without --expires the token never expires.`;

interface TokenArgs {
  userId: string;
  label: string;
  expiresInSeconds: number | undefined;
  secret: string | undefined;
}

function parse(argv: string[]): TokenArgs | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      as: { type: 'string' },
      user: { type: 'string' },
      expires: { type: 'string' },
      secret: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return 'help';
  const name = values.as?.trim();
  if ((name === undefined || name === '') === (values.user === undefined)) throw new Error('give one of --as <name> or --user <uuid>');
  if (values.user !== undefined && !isUuid(values.user)) throw new Error(`--user must be a lowercase hyphenated UUID, got ${JSON.stringify(values.user)}`);
  let expiresInSeconds: number | undefined;
  if (values.expires !== undefined) {
    expiresInSeconds = Number(values.expires);
    if (!/^\d+$/.test(values.expires) || !Number.isSafeInteger(expiresInSeconds) || expiresInSeconds <= 0) {
      throw new Error(`--expires must be a positive whole number of seconds, got ${JSON.stringify(values.expires)}`);
    }
  }
  if (values.secret === '') throw new Error('--secret must not be empty');
  const userId = values.user ?? userIdFromName(name ?? '');
  return { userId, label: name ?? userId, expiresInSeconds, secret: values.secret };
}

async function main(): Promise<void> {
  let args: TokenArgs | 'help';
  try {
    args = parse(process.argv.slice(2));
  } catch (err) {
    console.error(`token: ${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    process.exit(2);
  }
  if (args === 'help') {
    console.log(USAGE);
    return;
  }
  let signing: SigningSecret;
  try {
    signing = args.secret !== undefined ? { secret: args.secret, source: '--secret' } : findSigningSecret();
  } catch (err) {
    console.error(`token: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(2);
  }
  const token = await mintDevToken({ userId: args.userId, secret: signing.secret, expiresInSeconds: args.expiresInSeconds });
  const lifetime = args.expiresInSeconds === undefined ? 'never expires' : `expires in ${args.expiresInSeconds} s`;
  console.error(`token: ${args.label} (user ${args.userId}), signed with ${signing.source}, ${lifetime}`);
  console.log(token);
}

await main();
