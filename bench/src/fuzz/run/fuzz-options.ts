/** Command-line options of `pnpm fuzz`. */
import { parseArgs } from 'node:util';
import { availableParallelism } from 'node:os';
import { randomInt } from 'node:crypto';
import { UsageError } from '../../cli/options.ts';

export interface FuzzOptions {
  frames: number;
  seed: number;
  /** A running node to fuzz instead of one this run starts. */
  url: string | null;
  jwtSecret: string | null;
  /** Its process id, for RSS (a spawned node's is known). */
  serverPid: number | null;
  /** Its database, to verify the pair's messages (a spawned node's is known). */
  databaseUrl: string | null;
  users: number;
  window: number;
  pairRate: number;
  replyTimeoutMs: number;
  workers: number;
  /** The target may be a cluster (conversations may move): `unavailable` is then a transient answer, not a fault. */
  cluster: boolean;
  progress: boolean;
  json: boolean;
  out: string | null;
}

export const FUZZ_USAGE = `usage: pnpm fuzz [--frames N] [--seed S] [options]

  --frames N          frames to send (default 1000000), JSON and MessagePack about half each
  --seed S            fast-check seed (default: random, printed); frame i of a seed is always the same recipe
  --url ws://H:P/ws   fuzz a running node (needs --jwt-secret; --server-pid for its RSS, --database-url to verify the pair)
  --users U           fuzzing users, each with a JSON and a MessagePack connection (default 3, at least 3)
  --window W          frames in flight per connection (default 32)
  --pair-rate R       messages per second of the well-behaved pair (default 20)
  --reply-timeout S   seconds a frame may wait for its reply before it counts as unanswered (default 20)
  --workers N         shard workers of the node this run starts (default: cores)
  --cluster           --url names a node of a cluster: unavailable is allowed (one node never owes it)
  --json              last stdout line: the summary as JSON       --out DIR   results folder
  --no-progress       no progress bar
`;

const count = (raw: string | undefined, fallback: number, name: string, min: number): number => {
  if (raw === undefined) return fallback;
  const value = Number(raw.replace(/_/g, ''));
  if (!Number.isInteger(value) || value < min) throw new UsageError(`--${name} must be an integer >= ${min}, got ${raw}`);
  return value;
};

export function parseFuzzOptions(argv: readonly string[]): FuzzOptions {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      frames: { type: 'string' },
      seed: { type: 'string' },
      url: { type: 'string' },
      'jwt-secret': { type: 'string' },
      'server-pid': { type: 'string' },
      'database-url': { type: 'string' },
      users: { type: 'string' },
      window: { type: 'string' },
      'pair-rate': { type: 'string' },
      'reply-timeout': { type: 'string' },
      workers: { type: 'string' },
      cluster: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      out: { type: 'string' },
      'no-progress': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) throw new UsageError(FUZZ_USAGE, 0);
  if (positionals.length > 0) throw new UsageError(`unexpected ${positionals.join(' ')}\n\n${FUZZ_USAGE}`);
  const url = values.url ?? null;
  const jwtSecret = values['jwt-secret'] ?? process.env['WHISPR_JWT_SECRET'] ?? null;
  if (url !== null && jwtSecret === null) throw new UsageError('--url needs the node\'s JWT secret: --jwt-secret S or WHISPR_JWT_SECRET');
  return {
    frames: count(values.frames, 1_000_000, 'frames', 1),
    seed: values.seed === undefined ? randomInt(2 ** 31) : count(values.seed, 0, 'seed', -(2 ** 31)),
    url,
    jwtSecret,
    serverPid: values['server-pid'] === undefined ? null : count(values['server-pid'], 0, 'server-pid', 1),
    databaseUrl: values['database-url'] ?? null,
    users: count(values.users, 3, 'users', 3),
    window: count(values.window, 32, 'window', 1),
    pairRate: count(values['pair-rate'], 20, 'pair-rate', 1),
    replyTimeoutMs: count(values['reply-timeout'], 20, 'reply-timeout', 1) * 1000,
    workers: count(values.workers, availableParallelism(), 'workers', 0),
    cluster: values.cluster,
    progress: !values['no-progress'],
    json: values.json,
    out: values.out ?? null,
  };
}
