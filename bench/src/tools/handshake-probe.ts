/**
 * Reproduces the handshake fault docs/performance.md describes: starts a node,
 * opens connections in waves of 50 right after it is ready, and lists every one
 * closed before its `hello` (the node logs at debug level into the file named).
 *   pnpm exec tsx bench/src/tools/handshake-probe.ts [connections=400]
 */
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { createScratchDatabase } from '../target/databases.ts';
import { DEFAULT_REDIS_URL, spawnNode } from '../target/spawn-node.ts';
import { deleteRedisPrefix } from '../target/redis-cleanup.ts';
import { runPool } from '../util/pool.ts';
import { now } from '../util/time.ts';
import { BenchSocket } from '../wire/bench-socket.ts';
import { makeUsers } from '../wire/tokens.ts';

const count = Number(process.argv[2] ?? 400);
const logPath = join(tmpdir(), `whispr-handshake-probe-${process.pid}.log`);
const database = await createScratchDatabase('probe');
const node = await spawnNode({ databaseUrl: database.url, redisUrl: DEFAULT_REDIS_URL, workers: 2, logPath, env: { LOG_LEVEL: 'debug' } });
const readyAt = now();
let failures = 0;
try {
  const users = await makeUsers(count, node.jwtSecret);
  const sockets = await runPool(users, 50, async (user, i) => {
    try {
      return await BenchSocket.connect({ url: node.wsUrl, token: user.token });
    } catch (err) {
      failures++;
      console.log(`connection ${i} (user ${user.id}), ${(now() - readyAt).toFixed(0)} ms after ready: ${err instanceof Error ? err.message : String(err)}`);
      return null;
    }
  });
  await Promise.all(sockets.map((s) => s?.close()));
  console.log(`${failures} of ${count} handshakes closed before hello; node log: ${logPath}`);
} finally {
  await node.stop();
  await deleteRedisPrefix(DEFAULT_REDIS_URL, node.redisPrefix);
  await database.drop();
}
process.exit(failures > 0 ? 1 : 0);
