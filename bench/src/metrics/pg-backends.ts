/**
 * The PostgreSQL backends serving the run's nodes: client sessions connected to
 * the run's own database, the bench's own (named whispr-bench…) left out. Their
 * CPU is PostgreSQL's work for this run and nobody else's, which the
 * every-postgres-process figure cannot say on a machine others share (a fuzz
 * run's backends count there too). It misses the background processes (WAL
 * writer, checkpointer), which serve every database at once.
 */
import pg from 'pg';

/** Pids of the run's backends now; null when the database cannot be asked. */
export async function runBackendPids(databaseUrl: string): Promise<number[] | null> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'whispr-bench-backends' });
  try {
    await client.connect();
    const { rows } = await client.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
          AND application_name NOT LIKE 'whispr-bench%'`,
    );
    return rows.map((r) => r.pid);
  } catch {
    return null;
  } finally {
    await client.end().catch(() => undefined);
  }
}
