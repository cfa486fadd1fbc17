/**
 * p99 send-to-ack of one live pair with and without a retention cleanup running,
 * in one run (docs/performance.md "Retention under load"):
 *
 *   DATABASE_URL=postgres://... REDIS_URL=redis://... npx tsx bench/src/tools/retention-under-load.ts [messages] [baselineSeconds]
 *
 * One node (2 shard workers) on its own fresh database; a pair sends one message
 * at a time (each after the previous ack) for the baseline; then `messages`
 * (default 1,000,000) expired messages are inserted with generate_series into
 * another conversation (seqs 1..N, its last_seq N, so the counter agrees), a
 * 30-day policy is set on it, and the same pair sends while the retention run
 * turns all of them into tombstones through the owner. Prints both figures and
 * their ratio as one JSON line.
 */
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import pg from 'pg';
import { WhisprClient } from '@whispr/client';
import { runRetention } from '@whispr/jobs';
import { startNode } from '@whispr/node';
import { DEFAULT_LIMITS } from '@whispr/protocol';
import { setRetentionPolicy } from '@whispr/store';
import { createTestDatabase } from '@whispr/store/testing';
import { SignJWT } from 'jose';

const SECRET = 'retention-bench-secret';
const messages = Number(process.argv[2] ?? 1_000_000);
const baselineSeconds = Number(process.argv[3] ?? 20);

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;

async function main(): Promise<void> {
  const db = await createTestDatabase('retention_bench');
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const redisPrefix = `bench:${randomUUID().slice(0, 8)}:`;
  const node = await startNode({
    port: 0, host: '127.0.0.1', databaseUrl: db.url, redisUrl, redisPrefix, jwt: { secret: SECRET, devSecret: false }, dev: false,
    workers: 2, shardWriters: 2, nodeId: 'retention-bench', logLevel: 'warn',
    // One pair sending back to back for minutes: above the default per-user send rate (50/s), which is not what is measured.
    limits: { ...DEFAULT_LIMITS, send_rate_per_s: 100_000, send_burst: 100_000 }, socketBacklogBytes: 1 << 20,
    logger: pino({ level: 'warn' }),
  });
  const sql = new pg.Client({ connectionString: db.url, options: '-c timezone=UTC' });
  await sql.connect();
  try {
    const secret = new TextEncoder().encode(SECRET);
    const token = (sub: string): Promise<string> => new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setIssuedAt().setExpirationTime('2h').sign(secret);
    const alice = randomUUID();
    const a = await WhisprClient.connect({ url: node.wsUrl, token: await token(alice), encoding: 'msgpack' });
    const { conversation } = await a.direct(randomUUID());

    const measure = async (until: () => boolean): Promise<number[]> => {
      const acks: number[] = [];
      while (!until()) {
        const t0 = performance.now();
        await a.send(conversation.id, { content: Buffer.from('ping') });
        acks.push(performance.now() - t0);
      }
      return acks.sort((x, y) => x - y);
    };
    const baselineEnd = Date.now() + baselineSeconds * 1000;
    const baseline = await measure(() => Date.now() > baselineEnd);

    // The expired conversation, written straight into PostgreSQL (no actor has loaded it yet).
    const expiredId = randomUUID();
    const owner = randomUUID();
    const t0 = Date.now();
    await sql.query(`INSERT INTO conversations (id, type, last_seq) VALUES ($1, 'group', $2)`, [expiredId, messages]);
    await sql.query(`INSERT INTO conversation_members (conversation_id, user_id, role) VALUES ($1, $2, 'admin')`, [expiredId, owner]);
    await sql.query(
      `INSERT INTO messages (conversation_id, seq, sender_id, message_type, content, metadata, client_random, sent_at)
       SELECT $1, s, $2, 'text', convert_to('expired message ' || s, 'UTF8'), '{}', s, NOW() - INTERVAL '400 days' + s * INTERVAL '1 millisecond'
       FROM generate_series(1, $3::int) AS s`,
      [expiredId, owner, messages],
    );
    await sql.query('ANALYZE messages');
    const insertSeconds = (Date.now() - t0) / 1000;
    await setRetentionPolicy(sql, { conversationId: expiredId, retentionDays: 30, retainMediaDays: null });

    let cleaning = true;
    const cleanupStart = Date.now();
    const run = runRetention({ pg: sql, calls: node.internal, logger: pino({ level: 'warn' }), now: Date.now() }).finally(() => {
      cleaning = false;
    });
    const during = await measure(() => !cleaning);
    const summary = await run;
    const cleanupSeconds = (Date.now() - cleanupStart) / 1000;
    await a.close();
    const p = (xs: number[]): { n: number; p50_ms: number; p99_ms: number } => ({ n: xs.length, p50_ms: +percentile(xs, 0.5).toFixed(2), p99_ms: +percentile(xs, 0.99).toFixed(2) });
    const b = p(baseline);
    const d = p(during);
    process.stdout.write(`${JSON.stringify({
      messages, insert_seconds: insertSeconds, cleanup_seconds: cleanupSeconds, expired: summary.expired, batches: summary.batches,
      rows_per_second: Math.round(summary.expired / cleanupSeconds), baseline: b, during_cleanup: d, p99_ratio: +(d.p99_ms / b.p99_ms).toFixed(2),
    })}\n`);
  } finally {
    await sql.end();
    await node.stop();
    await db.drop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
