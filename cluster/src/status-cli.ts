/**
 * `pnpm cluster status`: reads the cluster a node started in this environment
 * would join (REDIS_URL, WHISPR_REDIS_PREFIX, WHISPR_NODE_GRACE_MS and, for a
 * conversation's row, DATABASE_URL, with a node's defaults) and prints it.
 */
import type { StatusArgs } from './launch-args.ts';
import { readClusterStatus } from './cluster-status.ts';
import { formatStatus } from './status-format.ts';

const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
const DEFAULT_REDIS_PREFIX = 'whispr:';
const DEFAULT_GRACE_MS = 3000;
/** A node with no DATABASE_URL uses the local server's `whispr` database first (packages/node/src/services.ts). */
const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/whispr';

const set = (v: string | undefined): string | undefined => (v === undefined || v.trim() === '' ? undefined : v.trim());

export async function runStatus(args: StatusArgs, env: NodeJS.ProcessEnv): Promise<number> {
  const redisUrl = set(env.REDIS_URL) ?? DEFAULT_REDIS_URL;
  const graceRaw = set(env.WHISPR_NODE_GRACE_MS);
  const graceMs = graceRaw !== undefined && /^\d+$/.test(graceRaw) ? Number(graceRaw) : DEFAULT_GRACE_MS;
  let status;
  try {
    status = await readClusterStatus({
      redisUrl,
      // May be empty on purpose (no prefix), as for a node.
      redisPrefix: env.WHISPR_REDIS_PREFIX ?? DEFAULT_REDIS_PREFIX,
      graceMs,
      databaseUrl: set(env.DATABASE_URL) ?? DEFAULT_DATABASE_URL,
      ...(args.conversation !== undefined ? { conversation: args.conversation } : {}),
    });
  } catch (err) {
    process.stderr.write(`whispr cluster status: cannot read the registry at ${redisUrl}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  process.stdout.write(args.json ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status, redisUrl));
  return 0;
}
