/**
 * PostgreSQL write ceiling: the rows a msg.send costs (one messages row, one
 * delivery_statuses row per recipient) written straight through pg, with no
 * service in between, into a fresh database carrying the node's exact schema
 * (same indexes, constraints, triggers). As many writers as the node has shard
 * workers, each owning its own conversations like a shard does, each batch one
 * batch committed either as a transaction of multi-row unnest inserts or as one
 * statement whose first insert is a data-modifying CTE (the service's own shape).
 * Every batch size is tried in both shapes and the best kept: that is what the
 * service could reach if it added no cost at all.
 */
import pg from 'pg';
import { randomUUID } from 'node:crypto';
import { makeContent } from '../load/content.ts';
import { migrate, newId } from '@whispr/store';
import { copySchema, createScratchDatabase } from '../target/databases.ts';
import { now } from '../util/time.ts';

export interface PgCeilingOptions {
  /** A database that has the schema to measure (the node's own). */
  schemaFromUrl: string;
  adminUrl?: string;
  writers: number;
  conversations: number;
  membersPerConversation: number;
  contentBytes: number;
  batchSizes: readonly number[];
  secondsPerBatch: number;
}

/** How a batch is committed: BEGIN, INSERT, INSERT, COMMIT; or one autocommit statement. */
export type BatchShape = 'transaction' | 'one-statement';
const SHAPES: readonly BatchShape[] = ['transaction', 'one-statement'];

export interface PgCeilingTrial {
  batch: number;
  shape: BatchShape;
  messages_per_s: number;
  rows_per_s: number;
}

export interface PgCeilingResult {
  per_s: number;
  best_batch: number;
  best_shape: BatchShape;
  writers: number;
  conversations: number;
  members_per_conversation: number;
  trials: PgCeilingTrial[];
}

interface ConversationPlan {
  id: string;
  members: string[];
  nextSeq: number;
  nextSender: number;
}

/** Message columns the bench can fill, in the order the unnest arrays are built. */
const MESSAGE_COLUMNS = [
  ['id', 'uuid'],
  ['conversation_id', 'uuid'],
  ['seq', 'bigint'],
  ['sender_id', 'uuid'],
  ['message_type', 'text'],
  ['content', 'bytea'],
  ['metadata', 'jsonb'],
  ['client_random', 'int'],
  ['sent_at', 'timestamptz'],
] as const;

export async function measurePgCeiling(options: PgCeilingOptions): Promise<PgCeilingResult> {
  const database = await createScratchDatabase('ceiling', options.adminUrl);
  try {
    await copyOrMigrate(options.schemaFromUrl, database.url);
    const plans = await seedConversations(database.url, options.conversations, options.membersPerConversation);
    const messageColumns = await existingColumns(database.url, 'messages');
    const statusColumns = await existingColumns(database.url, 'delivery_statuses');
    const writers = await Promise.all(
      Array.from({ length: options.writers }, async (_, w) => {
        const client = new pg.Client({ connectionString: database.url });
        await client.connect();
        return { client, plans: plans.filter((_, i) => i % options.writers === w), clientRandoms: new Map<string, number>() };
      }),
    );
    try {
      const trials: PgCeilingTrial[] = [];
      for (const shape of SHAPES) for (const batch of options.batchSizes) {
        const deadline = now() + options.secondsPerBatch * 1000;
        const startedAt = now();
        const counts = await Promise.all(
          writers.map(async (writer) => {
            let messages = 0;
            let rows = 0;
            if (writer.plans.length === 0) return { messages, rows };
            while (now() < deadline) {
              rows += await writeBatch(writer.client, writer.plans, writer.clientRandoms, batch, shape, options.contentBytes, messageColumns, statusColumns);
              messages += batch;
            }
            return { messages, rows };
          }),
        );
        const elapsed = (now() - startedAt) / 1000;
        const messages = counts.reduce((sum, c) => sum + c.messages, 0);
        const rows = counts.reduce((sum, c) => sum + c.rows, 0);
        trials.push({ batch, shape, messages_per_s: messages / elapsed, rows_per_s: rows / elapsed });
      }
      const best = trials.reduce((a, b) => (b.messages_per_s > a.messages_per_s ? b : a));
      return {
        per_s: best.messages_per_s,
        best_batch: best.batch,
        best_shape: best.shape,
        writers: options.writers,
        conversations: options.conversations,
        members_per_conversation: options.membersPerConversation,
        trials,
      };
    } finally {
      await Promise.all(writers.map((w) => w.client.end()));
    }
  } finally {
    // Dropping takes a second or more; the caller awaits it once the run is over.
    pendingDrops.push(database.drop().catch(() => undefined));
  }
}

const pendingDrops: Array<Promise<void>> = [];

/** Waits for the ceiling databases still being dropped. */
export async function ceilingCleanup(): Promise<void> {
  await Promise.all(pendingDrops.splice(0));
}

/**
 * The node's exact schema when pg_dump and psql are installed; otherwise the
 * schema this checkout's migrations build (the same, for a node started from it).
 */
async function copyOrMigrate(fromUrl: string, toUrl: string): Promise<void> {
  try {
    await copySchema(fromUrl, toUrl);
  } catch (err) {
    if (!(err instanceof Error && 'code' in err && err.code === 'ENOENT')) throw err;
    await migrate({ databaseUrl: toUrl });
  }
}

async function existingColumns(url: string, table: string): Promise<Set<string>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ column_name: string }>(
      `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1`,
      [table],
    );
    return new Set(rows.map((r) => r.column_name));
  } finally {
    await client.end();
  }
}

async function seedConversations(url: string, count: number, members: number): Promise<ConversationPlan[]> {
  const plans: ConversationPlan[] = Array.from({ length: count }, () => ({
    id: randomUUID(),
    members: Array.from({ length: members }, () => randomUUID()),
    nextSeq: 1,
    nextSender: 0,
  }));
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`INSERT INTO conversations (id, type) SELECT id, $2 FROM unnest($1::uuid[]) AS id`, [
      plans.map((p) => p.id),
      members > 2 ? 'group' : 'direct',
    ]);
    await client.query(`INSERT INTO conversation_members (conversation_id, user_id) SELECT * FROM unnest($1::uuid[], $2::uuid[])`, [
      plans.flatMap((p) => p.members.map(() => p.id)),
      plans.flatMap((p) => p.members),
    ]);
  } finally {
    await client.end();
  }
  return plans;
}

/** One transaction: `batch` messages round-robin over the writer's conversations, and their statuses. Returns rows written. */
async function writeBatch(
  client: pg.Client,
  plans: ConversationPlan[],
  clientRandoms: Map<string, number>,
  batch: number,
  shape: BatchShape,
  contentBytes: number,
  messageColumns: Set<string>,
  statusColumns: Set<string>,
): Promise<number> {
  const columns = MESSAGE_COLUMNS.filter(([name]) => messageColumns.has(name));
  const values: Record<string, unknown[]> = Object.fromEntries(columns.map(([name]) => [name, []]));
  const status = { id: [] as string[], message_id: [] as string[], user_id: [] as string[] };
  const sentAt = new Date();
  for (let k = 0; k < batch; k++) {
    const plan = plans[k % plans.length] as ConversationPlan;
    const sender = plan.members[plan.nextSender++ % plan.members.length] as string;
    const clientRandom = (clientRandoms.get(sender) ?? 0) + 1;
    clientRandoms.set(sender, clientRandom);
    const id = newId();
    const row: Record<string, unknown> = {
      id,
      conversation_id: plan.id,
      seq: plan.nextSeq++,
      sender_id: sender,
      message_type: 'text',
      content: makeContent(0, clientRandom, contentBytes),
      metadata: '{}',
      client_random: clientRandom,
      sent_at: sentAt,
    };
    for (const [name] of columns) values[name]?.push(row[name]);
    for (const member of plan.members) {
      if (member === sender) continue;
      status.id.push(newId());
      status.message_id.push(id);
      status.user_id.push(member);
    }
  }
  const statusCols = (['id', 'message_id', 'user_id'] as const).filter((c) => statusColumns.has(c));
  const insertMessages = (from: number): string =>
    `INSERT INTO messages (${columns.map(([n]) => n).join(', ')}) SELECT * FROM unnest(${columns.map(([, t], i) => `$${from + i}::${t}[]`).join(', ')})`;
  const insertStatuses = (from: number): string =>
    `INSERT INTO delivery_statuses (${statusCols.join(', ')}) SELECT * FROM unnest(${statusCols.map((_, i) => `$${from + i}::uuid[]`).join(', ')})`;
  const messageParams = columns.map(([name]) => values[name]);
  const statusParams = statusCols.map((c) => status[c]);
  if (shape === 'one-statement') {
    await client.query(`WITH m AS (${insertMessages(1)}) ${insertStatuses(columns.length + 1)}`, [...messageParams, ...statusParams]);
    return batch + status.id.length;
  }
  await client.query('BEGIN');
  try {
    await client.query(insertMessages(1), messageParams);
    await client.query(insertStatuses(1), statusParams);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  }
  return batch + status.id.length;
}
