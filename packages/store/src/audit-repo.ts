/**
 * The audit trail of seed §5.3 (audit_log, migration 0005): who did what to which
 * conversation, and when. Written in the same transaction as the change it
 * records, so the trail never shows a change that did not commit, nor misses one
 * that did.
 */
import type { JsonObject } from '@whispr/protocol';
import { msToTimestamp, type Queryable } from './queryable.ts';

/** The actions recorded (besides 'conversation.created', written by insertConversation). */
export type AuditAction =
  | 'members.added'
  | 'members.removed'
  | 'member.left'
  | 'conversation.updated'
  | 'settings.changed';

export interface AuditEntry {
  /** Null when the service itself acted (jobs). */
  actorId: string | null;
  conversationId: string;
  action: AuditAction;
  details: JsonObject;
  at: number;
}

export async function insertAudit(db: Queryable, entry: AuditEntry): Promise<void> {
  await db.query(
    `INSERT INTO audit_log (actor_id, conversation_id, action, details, occurred_at) VALUES ($1, $2, $3, $4, ${msToTimestamp('$5')})`,
    [entry.actorId, entry.conversationId, entry.action, JSON.stringify(entry.details), entry.at],
  );
}
