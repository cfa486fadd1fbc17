/**
 * What admins change about a conversation itself: its metadata (conv.update) and
 * its settings (conversation_settings, seed §2.2.8: conv.settings.get / set).
 */
import type { JsonObject } from '@whispr/protocol';
import type { Queryable } from './queryable.ts';

/** Replaces the conversation's metadata; returns the new updated_at (the row's trigger stamps it). */
export async function replaceConversationMetadata(db: Queryable, conversationId: string, metadata: JsonObject): Promise<number> {
  const result = await db.query<{ updated_at: number }>(
    'UPDATE conversations SET metadata = $2::jsonb WHERE id = $1 RETURNING updated_at',
    [conversationId, JSON.stringify(metadata)],
  );
  const row = result.rows[0];
  if (!row) throw new Error(`no conversation ${conversationId}`);
  return row.updated_at;
}

/** The conversation's settings; `{}` when it has no row (conversations created before the seed's trigger). */
export async function conversationSettings(db: Queryable, conversationId: string): Promise<JsonObject> {
  const result = await db.query<{ settings: JsonObject }>('SELECT settings FROM conversation_settings WHERE conversation_id = $1', [conversationId]);
  return result.rows[0]?.settings ?? {};
}

/** Merges `patch` into the conversation's settings (top-level keys replaced) and returns the result. */
export async function mergeConversationSettings(db: Queryable, conversationId: string, patch: JsonObject): Promise<JsonObject> {
  const result = await db.query<{ settings: JsonObject }>(
    `INSERT INTO conversation_settings (conversation_id, settings) VALUES ($1, $2::jsonb)
     ON CONFLICT (conversation_id) DO UPDATE SET settings = conversation_settings.settings || EXCLUDED.settings
     RETURNING settings`,
    [conversationId, JSON.stringify(patch)],
  );
  const row = result.rows[0];
  if (!row) throw new Error(`settings of ${conversationId} not written`);
  return row.settings;
}
