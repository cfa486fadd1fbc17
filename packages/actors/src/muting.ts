/**
 * Who has muted a conversation: a member whose settings (member.settings.set,
 * private to that member) hold `muted_until` in the future. Read from the
 * actor's state, so deciding costs no query. `muted_until` is ms since the epoch
 * or an ISO 8601 time; anything else is not a mute (notifications are the safe
 * default: a member who did not clearly mute hears of new messages).
 */
import type { ConversationState } from './conversation-state.ts';

export function mutedUntil(settings: Readonly<Record<string, unknown>>): number | null {
  const v = settings.muted_until;
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string') {
    const ms = Date.parse(v);
    return Number.isNaN(ms) ? null : ms;
  }
  return null;
}

/** Active members other than the sender who have not muted the conversation at `now`: the ones a notification may name. */
export function notifiableMembers(state: ConversationState, senderId: string, now: number): string[] {
  const out: string[] = [];
  for (const m of state.members.values()) {
    if (!m.isActive || m.userId === senderId) continue;
    const until = mutedUntil(m.settings);
    if (until === null || until <= now) out.push(m.userId);
  }
  return out;
}
