/** The maintenance jobs on a test node, torn down with it, and a wait for a job's end. */
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { pino } from 'pino';
import type { Test } from 'tap';
import { MaintenanceJobs } from '@whispr/jobs';
import { REDIS_URL, type TestNode } from './test-node.ts';

export function startMaintenance(t: Test, n: TestNode, options: { archiveInactiveDays?: number } = {}): MaintenanceJobs {
  const jobs = new MaintenanceJobs({
    redisUrl: REDIS_URL, redisPrefix: n.redisPrefix, databaseUrl: n.databaseUrl, logger: pino({ level: process.env.WHISPR_TEST_LOG ?? 'warn' }),
    calls: n.node.internal, tickMs: 3_600_000, ...options,
  });
  // Before the node stops (teardowns run last-registered first).
  t.teardown(() => jobs.close());
  return jobs;
}

export async function finished(jobs: MaintenanceJobs, jobId: string, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await jobs.queue.getJobState(jobId);
    if (state === 'completed' || state === 'failed') return state;
    if (Date.now() > deadline) throw new Error(`job ${jobId} still ${state} after ${timeoutMs} ms`);
    await sleep(50);
  }
}

export async function sqlClient(t: Test, n: TestNode): Promise<pg.Client> {
  const db = new pg.Client({ connectionString: n.databaseUrl, options: '-c timezone=UTC' });
  await db.connect();
  t.teardown(() => db.end());
  return db;
}
