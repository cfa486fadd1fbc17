/**
 * What the node's PostgreSQL sessions are doing, sampled from pg_stat_activity
 * during the measured phase: working (`active`, with its wait event), or waiting
 * for the node inside a transaction (`idle in transaction`). A high share of the
 * latter means PostgreSQL waits for the service, not the other way round.
 */
import pg from 'pg';
import { sleep } from '../util/time.ts';

export interface ActivityShare {
  /** state | wait event | statement (first words) */
  what: string;
  samples: number;
  share: number;
}

const INTERVAL_MS = 20;

export class PgActivitySampler {
  private readonly counts = new Map<string, number>();
  private running = false;
  private loop: Promise<void> = Promise.resolve();

  constructor(private readonly databaseUrl: string) {}

  start(): void {
    this.running = true;
    this.loop = this.run().catch(() => undefined);
  }

  async stop(): Promise<ActivityShare[]> {
    this.running = false;
    await this.loop;
    const total = [...this.counts.values()].reduce((a, b) => a + b, 0);
    return [...this.counts]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 12)
      .map(([what, samples]) => ({ what, samples, share: total === 0 ? 0 : Math.round((samples / total) * 1000) / 1000 }));
  }

  private async run(): Promise<void> {
    const client = new pg.Client({ connectionString: this.databaseUrl, application_name: 'whispr-bench-sampler' });
    await client.connect();
    try {
      while (this.running) {
        const { rows } = await client.query<{ state: string | null; wait: string | null; query: string }>(
          `SELECT state, wait_event_type || ':' || wait_event AS wait, left(regexp_replace(query, '\\s+', ' ', 'g'), 40) AS query
             FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
              AND state <> 'idle' AND application_name NOT LIKE 'whispr-bench%'`,
        );
        for (const row of rows) {
          const key = `${row.state ?? '?'} | ${row.wait ?? '-'} | ${row.query}`;
          this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
        }
        await sleep(INTERVAL_MS);
      }
    } finally {
      await client.end();
    }
  }
}
