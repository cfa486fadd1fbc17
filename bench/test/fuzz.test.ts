/**
 * A small fuzz run inside `pnpm test`: a few thousand frames against one real
 * node (its own database, Redis prefix and port), once with a fixed seed and
 * once with a random one (printed, so a failure can be replayed with
 * `pnpm fuzz --seed S --frames N`). Each property of the oracle is asserted on
 * its own, so a failure names the rule that broke; the violations are printed
 * with their smallest reproducing frame.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { randomInt } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { createTestDatabase } from '@whispr/store/testing';
import { PROPERTIES, type Property } from '../src/fuzz/oracle/properties.ts';
import { parseFuzzOptions } from '../src/fuzz/run/fuzz-options.ts';
import { formatFuzzResult } from '../src/fuzz/run/fuzz-result.ts';
import { runFuzz } from '../src/fuzz/run/fuzz-run.ts';
import { FUZZ_SEND_RATE } from '../src/fuzz/run/fuzz-target.ts';
import { DEFAULT_REDIS_URL, spawnNode } from '../src/target/spawn-node.ts';
import { deleteRedisPrefix } from '../src/target/redis-cleanup.ts';

const FIXED_SEED = 20_250_707;
const FRAMES = 2500;

const out = await mkdtemp(join(tmpdir(), 'whispr-fuzz-'));
const db = await createTestDatabase('bench_fuzz');
const node = await spawnNode({
  databaseUrl: db.url,
  redisUrl: DEFAULT_REDIS_URL,
  workers: 2,
  logPath: join(out, 'node.log'),
  env: { WHISPR_SEND_RATE_PER_S: String(FUZZ_SEND_RATE), WHISPR_SEND_BURST: String(FUZZ_SEND_RATE) },
});
t.teardown(async () => {
  await node.stop();
  await deleteRedisPrefix(DEFAULT_REDIS_URL, node.redisPrefix);
  await db.drop();
  await rm(out, { recursive: true, force: true });
});

const randomSeed = randomInt(2 ** 31);
process.stderr.write(`fuzz test: fixed seed ${FIXED_SEED}, random seed ${randomSeed} (replay: pnpm fuzz --seed ${randomSeed} --frames ${FRAMES})\n`);

for (const [label, seed] of [['fixed', FIXED_SEED], ['random', randomSeed]] as const) {
  t.test(`${label} seed ${seed}: ${FRAMES} frames hold the oracle`, async (t) => {
    t.comment(`seed ${seed}`);
    const options = parseFuzzOptions([
      '--frames', String(FRAMES),
      '--seed', String(seed),
      '--url', node.wsUrl,
      '--jwt-secret', node.jwtSecret,
      '--server-pid', String(node.serverPid),
      '--database-url', db.url,
      '--reply-timeout', '5',
      '--no-progress',
      '--out', join(out, `${label}-${seed}`),
    ]);
    const result = await runFuzz(options, `pnpm fuzz --seed ${seed} --frames ${FRAMES}`);
    if (result.violations_total > 0) t.comment(formatFuzzResult(result));
    t.ok(result.frames.json > FRAMES / 4 && result.frames.msgpack > FRAMES / 4, `both encodings fuzzed (json ${result.frames.json}, msgpack ${result.frames.msgpack})`);
    t.equal(result.node.crashed, null, 'the node never crashed');
    t.ok(result.node.healthy_at_end, 'the node is healthy after the run');
    t.equal(result.internal_replies, 0, 'no reply was internal');
    const byProperty = new Map<string, number>();
    for (const v of result.violations) byProperty.set(v.property, (byProperty.get(v.property) ?? 0) + v.count);
    for (const [property, rule] of Object.entries(PROPERTIES) as Array<[Property, string]>) {
      t.equal(byProperty.get(property) ?? 0, 0, `${property}: ${rule}`);
    }
    t.ok(result.pair.acked > 0 && result.pair.acked === result.pair.sent, `the pair's sends were all acked (${result.pair.acked}/${result.pair.sent})`);
    t.equal(result.pair.undelivered, 0, 'every pair message reached the peer');
    t.equal(result.pair.lost, 0, 'no pair message lost in PostgreSQL');
  });
}
