/**
 * Operations scoped to a user rather than one conversation (routed on the user
 * id): conv.list and sync, for the caller only. They read committed state straight from PostgreSQL,
 * so they need no actor; a committed write is visible to them, which is all a
 * client can rely on since it is acknowledged only after commit.
 */
import { badRequest, type RequestOf } from '@whispr/protocol';
import { lastMessages, listConversations, loadMembersOf, syncAccess, syncRanges, toConversation, toMember, toMessage } from '@whispr/store';
import type { ConvListResult, SyncEntry, SyncResult } from '@whispr/protocol';
import type { UserOp } from './op.ts';
import type { WorkerContext } from '../worker-context.ts';

const DEFAULT_LIST_LIMIT = 50;
const DEFAULT_SYNC_LIMIT = 100;

async function convList(ctx: WorkerContext, userId: string, req: RequestOf<'conv.list'>): Promise<ConvListResult> {
  const limit = req.limit ?? DEFAULT_LIST_LIMIT;
  const rows = await listConversations(ctx.pg, userId, limit + 1, req.before ?? null);
  const page = rows.slice(0, limit);
  const ids = page.map((r) => r.id);
  const [members, lasts] = await Promise.all([loadMembersOf(ctx.pg, ids), lastMessages(ctx.pg, userId, ids)]);
  const membersOf = new Map<string, ReturnType<typeof toMember>[]>();
  for (const m of members) {
    const list = membersOf.get(m.conversation_id) ?? [];
    list.push(toMember(m, userId));
    membersOf.set(m.conversation_id, list);
  }
  const lastOf = new Map(lasts.map((m) => [m.conversation_id, toMessage(m)]));
  const conversations = page.map((r) => ({
    conversation: toConversation(r, membersOf.get(r.id) ?? []),
    last_message: lastOf.get(r.id) ?? null,
    unread_count: r.unread_count,
  }));
  const last = page[page.length - 1];
  return { conversations, next: rows.length > limit && last ? last.updated_at : null };
}

async function sync(ctx: WorkerContext, userId: string, req: RequestOf<'sync'>): Promise<SyncResult> {
  const max = ctx.limits.history_max;
  const limit = req.limit ?? Math.min(DEFAULT_SYNC_LIMIT, max);
  if (limit > max) throw badRequest('limit', `must be at most ${max}`);
  const cursors = new Map<string, number>();
  for (const c of req.cursors) cursors.set(c.conversation_id, Math.max(cursors.get(c.conversation_id) ?? 0, c.after_seq));
  const access = await syncAccess(ctx.pg, userId, [...cursors.keys()]);
  const allowed = access.filter((a) => a.exists && a.is_member);
  const rows = await syncRanges(
    ctx.pg,
    userId,
    allowed.map((a) => ({ conversationId: a.conversation_id, afterSeq: cursors.get(a.conversation_id) ?? 0 })),
    limit,
  );
  const byConversation = new Map<string, ReturnType<typeof toMessage>[]>();
  for (const row of rows) {
    const list = byConversation.get(row.conversation_id) ?? [];
    list.push(toMessage(row));
    byConversation.set(row.conversation_id, list);
  }
  const conversations = access.map((a): SyncEntry => {
    if (!a.exists || !a.is_member) {
      // Per-conversation refusal, so one stale cursor does not fail the whole sync.
      return {
        conversation_id: a.conversation_id, messages: [], last_seq: 0, complete: true,
        error: a.exists ? { code: 'forbidden', message: 'not an active member of this conversation' } : { code: 'not_found', message: 'no such conversation' } as const,
      };
    }
    const got = byConversation.get(a.conversation_id) ?? [];
    const messages = got.slice(0, limit);
    const newest = messages[messages.length - 1]?.seq ?? 0;
    return { conversation_id: a.conversation_id, messages, last_seq: Math.max(a.last_seq, newest), complete: got.length <= limit };
  });
  return { conversations };
}

export const convListOp: UserOp<'conv.list'> = { scope: 'user', run: (ctx, caller, req) => convList(ctx, caller.userId, req) };
export const syncOp: UserOp<'sync'> = { scope: 'user', run: (ctx, caller, req) => sync(ctx, caller.userId, req) };
/** Answered by the gateway itself; here only so a shard answers it the same if one ever gets it. */
export const pingOp: UserOp<'ping'> = { scope: 'user', run: () => Promise.resolve({ server_time: Date.now() }) };
