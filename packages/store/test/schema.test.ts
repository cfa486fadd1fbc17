// The migrated schema against the seed's specification (§8.1, §11, §12.2,
// §12.3, §13.1) plus the additions docs/schema.md lists.

import t from 'tap';
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { createPgPool } from '../src/pg.ts';
import { createTestDatabase } from '../src/test-database.ts';

const TABLES = [
  'conversations',
  'conversation_members',
  'messages',
  'delivery_statuses',
  'pinned_messages',
  'message_reactions',
  'message_attachments',
  'conversation_settings',
  'scheduled_messages',
  'retention_policies',
  'archived_conversations',
  'usage_metrics',
  'audit_log',
  'user_blocks',
];

// Every index of the seed, by name, except the two single-column ones that
// docs/schema.md shows redundant (prefixes of unique indexes) and drops.
const SEED_INDEXES = [
  'idx_conversations_type',
  'idx_conversations_external_group_id',
  'idx_conversations_created_at',
  'idx_conversations_updated_at',
  'idx_conversations_is_active',
  'idx_conversation_members_conversation_id',
  'idx_conversation_members_user_id',
  'idx_conversation_members_last_read_at',
  'idx_conversation_members_is_active',
  'idx_messages_sender_id',
  'idx_messages_reply_to_id',
  'idx_messages_sent_at',
  'idx_messages_conversation_id_sent_at',
  'idx_messages_is_deleted',
  'idx_delivery_statuses_user_id',
  'idx_delivery_statuses_delivered_at',
  'idx_delivery_statuses_read_at',
  'idx_pinned_messages_conversation_id',
  'idx_pinned_messages_message_id',
  'idx_pinned_messages_pinned_at',
  'idx_message_reactions_message_id',
  'idx_message_reactions_user_id',
  'idx_message_reactions_reaction',
  'idx_message_attachments_message_id',
  'idx_message_attachments_media_id',
  'idx_message_attachments_media_type',
  'idx_scheduled_messages_conversation_id',
  'idx_scheduled_messages_sender_id',
  'idx_scheduled_messages_scheduled_for',
  'idx_scheduled_messages_status',
  'idx_archived_conversations_last_activity',
  'idx_messages_metadata_gin',
  'idx_delivery_composite',
  'idx_messages_active',
  'idx_usage_metrics_time',
  // The seed's UNIQUE constraints, under PostgreSQL's default names.
  'conversation_members_conversation_id_user_id_key',
  'messages_sender_id_client_random_key',
  'delivery_statuses_message_id_user_id_key',
  'pinned_messages_conversation_id_message_id_key',
  'message_reactions_message_id_user_id_reaction_key',
  'conversation_settings_conversation_id_key',
  'retention_policies_conversation_id_key',
];
const DROPPED_INDEXES = ['idx_messages_conversation_id', 'idx_delivery_statuses_message_id'];
const ADDED_INDEXES = [
  'messages_conversation_id_seq_key',
  'idx_audit_log_conversation_id_occurred_at',
  'idx_audit_log_occurred_at',
  'user_blocks_pkey',
  'idx_user_blocks_blocked_id',
];

const db = await createTestDatabase('schema');
const pool = createPgPool({ connectionString: db.url, max: 4 });
t.teardown(async () => {
  await pool.end();
  await db.drop();
});

async function newConversation(client: pg.Pool | pg.PoolClient, updatedAtSql = 'NOW()'): Promise<string> {
  const id = randomUUID();
  await client.query(
    `INSERT INTO conversations (id, type, created_at, updated_at) VALUES ($1, 'group', ${updatedAtSql}, ${updatedAtSql})`,
    [id],
  );
  return id;
}

async function insertMessage(
  conversationId: string,
  seq: number,
  fields: { senderId?: string; clientRandom?: number; sentAtSql?: string } = {},
): Promise<string> {
  const id = randomUUID();
  await pool.query(
    `INSERT INTO messages (id, conversation_id, sender_id, message_type, content, client_random, seq, sent_at)
     VALUES ($1, $2, $3, 'text', '\\x00', $4, $5, ${fields.sentAtSql ?? 'NOW()'})`,
    [id, conversationId, fields.senderId ?? randomUUID(), fields.clientRandom ?? randomInt31(), seq],
  );
  return id;
}

function randomInt31(): number {
  return Math.floor(Math.random() * 2 ** 31);
}

function pgErrorOf(promise: Promise<unknown>): Promise<{ code?: string; constraint?: string }> {
  return promise.then(
    () => ({}),
    (err: unknown) => err as { code?: string; constraint?: string },
  );
}

t.test('every table, index, trigger, function, procedure and view exists', async (t) => {
  const tables = await pool.query<{ relname: string }>(
    `SELECT relname FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace`,
  );
  const tableNames = new Set(tables.rows.map((r) => r.relname));
  for (const table of TABLES) t.ok(tableNames.has(table), `table ${table}`);

  const indexes = await pool.query<{ indexname: string }>(`SELECT indexname FROM pg_indexes WHERE schemaname = 'public'`);
  const indexNames = new Set(indexes.rows.map((r) => r.indexname));
  for (const index of [...SEED_INDEXES, ...ADDED_INDEXES]) t.ok(indexNames.has(index), `index ${index}`);
  for (const index of DROPPED_INDEXES) t.notOk(indexNames.has(index), `redundant index ${index} is dropped`);

  const triggers = await pool.query<{ tgname: string; relname: string; per_row: boolean }>(
    `SELECT tgname, tgrelid::regclass::text AS relname, (tgtype & 1) = 1 AS per_row
       FROM pg_trigger WHERE NOT tgisinternal`,
  );
  const trigger = (name: string) => triggers.rows.find((r) => r.tgname === name);
  t.match(trigger('update_conversations_timestamp'), { relname: 'conversations', per_row: true });
  t.match(trigger('update_conversation_settings_timestamp'), { relname: 'conversation_settings', per_row: true });
  t.match(trigger('new_conversation_settings'), { relname: 'conversations', per_row: true });
  t.match(trigger('message_updates_conversation'), { relname: 'messages', per_row: false }, 'statement-level');

  const routines = await pool.query<{ proname: string; prokind: string }>(
    `SELECT proname, prokind FROM pg_proc WHERE pronamespace = 'public'::regnamespace`,
  );
  const kind = (name: string) => routines.rows.find((r) => r.proname === name)?.prokind;
  for (const fn of [
    'update_timestamp',
    'create_default_conversation_settings',
    'update_conversation_timestamp',
    'cleanup_expired_messages',
    'count_unread_messages',
    'whispr_fence',
  ]) {
    t.equal(kind(fn), 'f', `function ${fn}`);
  }
  t.equal(kind('archive_inactive_conversations'), 'p', 'procedure archive_inactive_conversations');
  t.ok(kind('uuid_generate_v4'), 'uuid-ossp is installed');

  const views = await pool.query(`SELECT 1 FROM pg_views WHERE schemaname = 'public' AND viewname = 'conversation_activity'`);
  t.equal(views.rowCount, 1, 'view conversation_activity');
});

t.test('added columns have the documented types and defaults', async (t) => {
  const columns = await pool.query<{ table_name: string; column_name: string; data_type: string; is_nullable: string; column_default: string | null }>(
    `SELECT table_name, column_name, data_type, is_nullable, column_default
       FROM information_schema.columns WHERE table_schema = 'public'`,
  );
  const column = (table: string, name: string) =>
    columns.rows.find((r) => r.table_name === table && r.column_name === name);
  t.match(column('messages', 'seq'), { data_type: 'bigint', is_nullable: 'NO', column_default: null });
  t.match(column('conversations', 'last_seq'), { data_type: 'bigint', is_nullable: 'NO', column_default: '0' });
  t.match(column('conversation_members', 'role'), { data_type: 'character varying', is_nullable: 'NO' });
  t.match(column('conversation_members', 'role')?.column_default, /'member'/);
  t.match(column('conversation_members', 'last_read_seq'), { data_type: 'bigint', is_nullable: 'NO', column_default: '0' });
  t.match(column('conversation_members', 'last_delivered_seq'), { data_type: 'bigint', is_nullable: 'NO', column_default: '0' });
  t.match(column('messages', 'sent_at'), { data_type: 'timestamp without time zone' });
  t.match(column('audit_log', 'details'), { data_type: 'jsonb', is_nullable: 'NO' });
  t.match(column('conversations', 'owner_epoch'), { data_type: 'bigint', is_nullable: 'NO', column_default: '0' });
  t.match(column('conversations', 'owner_node'), { data_type: 'text', is_nullable: 'YES', column_default: null });

  const conversationId = await newConversation(pool);
  const error = await pgErrorOf(
    pool.query(`INSERT INTO conversation_members (conversation_id, user_id, role) VALUES ($1, $2, 'owner')`, [
      conversationId,
      randomUUID(),
    ]),
  );
  t.equal(error.code, '23514', 'role is limited to admin and member');
});

t.test('the statement-level trigger updates each touched conversation once', async (t) => {
  const client = await pool.connect();
  try {
    const a = await newConversation(client, `NOW() - INTERVAL '1 day'`);
    const b = await newConversation(client, `NOW() - INTERVAL '1 day'`);
    const untouched = await newConversation(client, `NOW() - INTERVAL '1 day'`);
    await client.query('BEGIN');
    const before = await client.query<{ n_tup_upd: number }>(
      `SELECT n_tup_upd FROM pg_stat_xact_user_tables WHERE relname = 'conversations'`,
    );
    await client.query(
      `INSERT INTO messages (conversation_id, sender_id, message_type, content, client_random, seq)
       SELECT c, $4::uuid, 'text', '\\x00', r, s
         FROM unnest($1::uuid[], $2::int[], $3::bigint[]) AS u(c, r, s)`,
      [[a, a, a, b], [1, 2, 3, 4], [1, 2, 3, 1], randomUUID()],
    );
    const after = await client.query<{ n_tup_upd: number }>(
      `SELECT n_tup_upd FROM pg_stat_xact_user_tables WHERE relname = 'conversations'`,
    );
    t.equal((after.rows[0]?.n_tup_upd ?? 0) - (before.rows[0]?.n_tup_upd ?? 0), 2, 'two row updates for two conversations');
    await client.query('COMMIT');

    const rows = await client.query<{ id: string; last_seq: number; updated_at: number }>(
      `SELECT id, last_seq, updated_at FROM conversations WHERE id = ANY($1::uuid[])`,
      [[a, b, untouched]],
    );
    const byId = new Map(rows.rows.map((r) => [r.id, r]));
    const recent = Date.now() - 60_000;
    t.equal(byId.get(a)?.last_seq, 3);
    t.equal(byId.get(b)?.last_seq, 1);
    t.ok((byId.get(a)?.updated_at ?? 0) > recent, 'updated_at of a advanced');
    t.ok((byId.get(b)?.updated_at ?? 0) > recent, 'updated_at of b advanced');
    t.equal(byId.get(untouched)?.last_seq, 0);
    t.ok((byId.get(untouched)?.updated_at ?? Infinity) < recent, 'an untouched conversation keeps its updated_at');

    // A lower seq arriving later (a backfill) never moves last_seq back.
    await client.query(
      `INSERT INTO messages (conversation_id, sender_id, message_type, content, client_random, seq)
       VALUES ($1, $2, 'text', '\\x00', 99, -5)`,
      [a, randomUUID()],
    );
    const again = await client.query<{ last_seq: number }>('SELECT last_seq FROM conversations WHERE id = $1', [a]);
    t.equal(again.rows[0]?.last_seq, 3);
  } finally {
    client.release();
  }
});

t.test('UNIQUE (conversation_id, seq) fences a second writer', async (t) => {
  const conversationId = await newConversation(pool);
  await insertMessage(conversationId, 1);
  const error = await pgErrorOf(insertMessage(conversationId, 1));
  t.equal(error.code, '23505');
  t.equal(error.constraint, 'messages_conversation_id_seq_key');
  const other = await newConversation(pool);
  await insertMessage(other, 1);
  t.pass('the same seq in another conversation is fine');
});

t.test('(sender_id, client_random) is unique', async (t) => {
  const conversationId = await newConversation(pool);
  const senderId = randomUUID();
  await insertMessage(conversationId, 1, { senderId, clientRandom: 42 });
  const error = await pgErrorOf(insertMessage(conversationId, 2, { senderId, clientRandom: 42 }));
  t.equal(error.code, '23505');
  t.equal(error.constraint, 'messages_sender_id_client_random_key');
});

t.test('new_conversation_settings creates the default settings row', async (t) => {
  const conversationId = await newConversation(pool);
  const settings = await pool.query<{ settings: unknown }>(
    'SELECT settings FROM conversation_settings WHERE conversation_id = $1',
    [conversationId],
  );
  t.same(settings.rows, [{ settings: { notifications: true, retention_days: null } }]);
});

t.test('count_unread_messages counts by last_read_seq', async (t) => {
  const conversationId = await newConversation(pool);
  const me = randomUUID();
  const other = randomUUID();
  await pool.query('INSERT INTO conversation_members (conversation_id, user_id) VALUES ($1, $2), ($1, $3)', [
    conversationId,
    me,
    other,
  ]);
  await insertMessage(conversationId, 1, { senderId: other });
  await insertMessage(conversationId, 2, { senderId: me });
  await insertMessage(conversationId, 3, { senderId: other });
  const deleted = await insertMessage(conversationId, 4, { senderId: other });
  await pool.query('UPDATE messages SET is_deleted = TRUE, delete_for_everyone = TRUE WHERE id = $1', [deleted]);
  // Deleted by its sender for themselves alone (0009): still unread for the others.
  const hiddenFromSender = await insertMessage(conversationId, 5, { senderId: other });
  await pool.query('UPDATE messages SET is_deleted = TRUE WHERE id = $1', [hiddenFromSender]);
  const count = async () =>
    (await pool.query<{ n: number }>('SELECT count_unread_messages($1, $2) AS n', [me, conversationId])).rows[0]?.n;
  t.equal(await count(), 3, 'all of the others\' messages but the tombstone, before any read');
  await pool.query('UPDATE conversation_members SET last_read_seq = 1 WHERE conversation_id = $1 AND user_id = $2', [
    conversationId,
    me,
  ]);
  t.equal(await count(), 2, 'after reading up to seq 1');
});

t.test('cleanup_expired_messages applies retention policies', async (t) => {
  const conversationId = await newConversation(pool);
  await pool.query(
    'INSERT INTO retention_policies (conversation_id, retention_days, auto_delete_for_everyone) VALUES ($1, 7, TRUE)',
    [conversationId],
  );
  const old = await insertMessage(conversationId, 1, { sentAtSql: `NOW() - INTERVAL '10 days'` });
  const fresh = await insertMessage(conversationId, 2);
  const kept = await newConversation(pool);
  const noPolicy = await insertMessage(kept, 1, { sentAtSql: `NOW() - INTERVAL '10 days'` });

  const result = await pool.query<{ n: number }>('SELECT cleanup_expired_messages() AS n');
  t.equal(result.rows[0]?.n, 1);
  const rows = await pool.query<{ id: string; is_deleted: boolean; delete_for_everyone: boolean }>(
    'SELECT id, is_deleted, delete_for_everyone FROM messages WHERE id = ANY($1::uuid[])',
    [[old, fresh, noPolicy]],
  );
  const byId = new Map(rows.rows.map((r) => [r.id, r]));
  t.match(byId.get(old), { is_deleted: true, delete_for_everyone: true });
  t.match(byId.get(fresh), { is_deleted: false });
  t.match(byId.get(noPolicy), { is_deleted: false });
  const second = await pool.query<{ n: number }>('SELECT cleanup_expired_messages() AS n');
  t.equal(second.rows[0]?.n, 0, 'a second run finds nothing new');
});

t.test('archive_inactive_conversations archives and deactivates', async (t) => {
  const stale = await newConversation(pool, `NOW() - INTERVAL '40 days'`);
  const member = randomUUID();
  await pool.query('INSERT INTO conversation_members (conversation_id, user_id) VALUES ($1, $2)', [stale, member]);
  const active = await newConversation(pool);

  await pool.query('CALL archive_inactive_conversations(30)');
  await pool.query('CALL archive_inactive_conversations(30)');

  const archived = await pool.query<{ id: string; conversation_data: { type: string; members: Array<{ user_id: string }> } }>(
    'SELECT id, conversation_data FROM archived_conversations WHERE id = ANY($1::uuid[])',
    [[stale, active]],
  );
  t.equal(archived.rowCount, 1, 'only the stale conversation, once');
  t.equal(archived.rows[0]?.id, stale);
  t.equal(archived.rows[0]?.conversation_data.type, 'group');
  t.same(archived.rows[0]?.conversation_data.members.map((m) => m.user_id), [member]);
  const flags = await pool.query<{ id: string; is_active: boolean }>(
    'SELECT id, is_active FROM conversations WHERE id = ANY($1::uuid[])',
    [[stale, active]],
  );
  const byId = new Map(flags.rows.map((r) => [r.id, r.is_active]));
  t.equal(byId.get(stale), false);
  t.equal(byId.get(active), true);
});

t.test('conversation_activity and usage_metrics answer', async (t) => {
  const activity = await pool.query<{ day: number; message_count: number }>('SELECT * FROM conversation_activity');
  t.ok(activity.rows.length >= 1);
  t.type(activity.rows[0]?.day, 'number', 'day is a TIMESTAMP read as ms');
  await pool.query(
    `INSERT INTO usage_metrics (total_conversations, active_conversations_24h, messages_sent_1h, total_users,
       active_users_24h, avg_message_size_bytes, p95_message_delivery_ms) VALUES (1, 1, 1, 1, 1, 1, 1)`,
  );
  const metrics = await pool.query('SELECT metric_time FROM usage_metrics');
  t.equal(metrics.rowCount, 1);
});

t.test('audit_log and user_blocks accept their rows', async (t) => {
  await pool.query(`INSERT INTO audit_log (action) VALUES ('conversation.created')`);
  const audit = await pool.query<{ details: unknown; actor_id: string | null }>('SELECT details, actor_id FROM audit_log');
  t.same(audit.rows, [{ details: {}, actor_id: null }]);
  const blocker = randomUUID();
  const blocked = randomUUID();
  await pool.query('INSERT INTO user_blocks (blocker_id, blocked_id) VALUES ($1, $2)', [blocker, blocked]);
  const error = await pgErrorOf(
    pool.query('INSERT INTO user_blocks (blocker_id, blocked_id) VALUES ($1, $2)', [blocker, blocked]),
  );
  t.equal(error.code, '23505', 'a block is recorded once');
});
