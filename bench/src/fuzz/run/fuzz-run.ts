/**
 * One fuzz run from start to report: reach the node, create the world, start
 * the well-behaved pair, fuzz N frames over every connection, drain, then check
 * what the oracle cannot see frame by frame: the node is still alive and
 * healthy, its memory, and the pair's conversation (every send acked and
 * delivered, seqs 1..N in order, nothing lost or doubled in PostgreSQL).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PacedPair } from '../../load/paced-pair.ts';
import { sampleProcess } from '../../metrics/process-stats.ts';
import { say } from '../../cli/progress.ts';
import { benchRoot } from '../../util/repo-root.ts';
import { now, sleep } from '../../util/time.ts';
import { verifyMessages } from '../../verify/verify-messages.ts';
import { Oracle } from '../oracle/judge.ts';
import { drive } from './fuzz-driver.ts';
import { FuzzConnection } from './fuzz-connection.ts';
import type { FuzzOptions } from './fuzz-options.ts';
import { FuzzProgress } from './fuzz-progress.ts';
import type { FuzzResult, PairSummary } from './fuzz-result.ts';
import { fuzzTarget } from './fuzz-target.ts';
import { createWorld } from './fuzz-world.ts';

const MB = 1024 * 1024;
const round = (value: number, digits = 1): number => Math.round(value * 10 ** digits) / 10 ** digits;

async function healthy(httpUrl: string): Promise<boolean> {
  try {
    return (await fetch(`${httpUrl}/healthz`, { signal: AbortSignal.timeout(5000) })).status === 200;
  } catch {
    return false;
  }
}

export async function runFuzz(options: FuzzOptions, command: string): Promise<FuzzResult> {
  const startedAt = new Date();
  const dir = options.out ?? join(benchRoot, 'results', `${startedAt.toISOString().replace(/[:.]/g, '-').slice(0, 19)}-fuzz`);
  await mkdir(dir, { recursive: true });
  say(`fuzz seed ${options.seed}, ${options.frames} frames`);
  const target = await fuzzTarget(options, dir);
  const oracle = new Oracle(options.seed, !options.cluster);
  let crashed: string | null = null;
  void target.exited.then((how) => {
    crashed = how;
    oracle.violations.record('node-exited', `the node process exited during the run (${how})`, null);
  });
  const rss = (): number | null => (target.serverPid === null ? null : (sampleProcess(target.serverPid)?.rssBytes ?? null));
  try {
    say(`creating ${options.users} fuzz users, a well-behaved pair and two bystanders`);
    const world = await createWorld(target, options.users);
    const pair = new PacedPair(world.pair.conversationId, world.pair.sockets, world.pair.firstIndex);
    const lanes = world.fuzzers.flatMap(({ user, identity }) =>
      (['json', 'msgpack'] as const).map((enc) => ({
        identity,
        connection: new FuzzConnection({ url: target.wsUrl, token: user.token, enc, oracle, window: options.window, replyTimeoutMs: options.replyTimeoutMs }),
      })),
    );
    await Promise.all(lanes.map((lane) => lane.connection.open()));
    const rssBefore = rss();
    let rssPeak = rssBefore ?? 0;
    pair.start(options.pairRate);
    const progress = new FuzzProgress(options.progress && !options.json);
    progress.start(options.frames);
    const t0 = now();
    const ticker = setInterval(() => {
      rssPeak = Math.max(rssPeak, rss() ?? 0);
      progress.update({ frames: oracle.tally.frames, perS: oracle.tally.frames / ((now() - t0) / 1000), violations: oracle.violations.total, internal: oracle.tally.internalReplies, pairAcked: pair.acked });
    }, 500);
    try {
      await drive(lanes, { seed: options.seed, frames: options.frames, oracle, aborted: () => crashed !== null });
      // The last replies get as long as every other: a frame unanswered by then is unanswered.
      await Promise.all(lanes.map((lane) => lane.connection.finish(options.replyTimeoutMs)));
    } finally {
      clearInterval(ticker);
      progress.update({ frames: oracle.tally.frames, perS: 0, violations: oracle.violations.total, internal: oracle.tally.internalReplies, pairAcked: pair.acked });
      progress.stop();
    }
    const durationS = (now() - t0) / 1000;
    await pair.stop();
    // Let the node settle after the last frame before reading its memory.
    await sleep(500);
    const rssAfter = rss();
    const healthyAtEnd = crashed === null && (await healthy(target.httpUrl));
    if (!healthyAtEnd && crashed === null) oracle.violations.record('node-unhealthy', '/healthz did not answer 200 after the run', null);
    const pairSummary = await checkPair(pair, options.pairRate, target.databaseUrl, oracle);
    await Promise.all(world.pair.sockets.map((s) => s.close()));
    const { tally } = oracle;
    const result: FuzzResult = {
      command,
      seed: options.seed,
      started_at: startedAt.toISOString(),
      duration_s: round(durationS),
      frames: { ...tally.framesByEncoding, total: tally.frames },
      frames_per_s: Math.round(tally.frames / durationS),
      replies_by_outcome: tally.repliesByOutcome,
      closes_by_code: tally.closesByCode,
      events: tally.events,
      reconnects: tally.reconnects,
      filler_pings: tally.fillerPings,
      streaks: tally.streaks,
      interleaved_bursts: tally.interleaved,
      node: {
        crashed,
        healthy_at_end: healthyAtEnd,
        rss_mb_before: rssBefore === null ? null : round(rssBefore / MB),
        rss_mb_after: rssAfter === null ? null : round(rssAfter / MB),
        rss_mb_peak: rssBefore === null ? null : round(rssPeak / MB),
        log: target.logPath,
      },
      internal_replies: tally.internalReplies,
      violations_total: oracle.violations.total,
      violations: oracle.violations.list(),
      pair: pairSummary,
      report: dir,
    };
    await writeFile(join(dir, 'results.json'), `${JSON.stringify(result, null, 2)}\n`);
    return result;
  } finally {
    await target.stop();
  }
}

/** The pair's own checks, each failure a violation, and its figures for the summary. */
async function checkPair(pair: PacedPair, rate: number, databaseUrl: string | null, oracle: Oracle): Promise<PairSummary> {
  const check = pair.check();
  const record = (what: string, count: number): void => {
    if (count > 0) oracle.violations.record('pair-broken', `${count} ${what}`, null);
  };
  record('of the well-behaved pair\'s sends were never answered', check.unanswered);
  record('acked pair messages never reached the peer', check.undelivered);
  record('pair seqs missing from 1..N or acked twice', check.seqProblems);
  record('pair acks out of the order they were sent in', check.outOfOrder);
  record('messages by someone else appeared in the pair\'s conversation', check.foreignMessages);
  record(`pair sends failed (${JSON.stringify(check.errorsByCode)})`, Object.values(check.errorsByCode).reduce((a, b) => a + b, 0));
  record(`pair connection closes (${check.closes.join(', ')})`, check.closes.length);
  let lost: number | null = null;
  let duplicated: number | null = null;
  if (databaseUrl !== null) {
    const verification = await verifyMessages(databaseUrl, [pair.lane], 200);
    lost = verification.lost + verification.mismatched + verification.seq_gaps;
    duplicated = verification.duplicated + verification.failed_but_stored;
    record('pair messages acked but not stored as acked in PostgreSQL', lost);
    record('pair messages stored twice in PostgreSQL', duplicated);
  }
  const histogram = pair.phaseNamed('run')?.ack;
  return {
    rate_per_s: rate,
    sent: check.sent,
    acked: check.acked,
    errors_by_code: check.errorsByCode,
    unanswered: check.unanswered,
    undelivered: check.undelivered,
    seq_problems: check.seqProblems,
    out_of_order: check.outOfOrder,
    foreign_messages: check.foreignMessages,
    closes: check.closes,
    p50_ack_ms: round(histogram?.at(50) ?? 0, 2),
    p99_ack_ms: round(histogram?.at(99) ?? 0, 2),
    max_ack_ms: round(histogram?.at(100) ?? 0, 2),
    lost,
    duplicated,
  };
}
