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

/**
 * Whether a notification may name `userId`: an active member who has not muted
 * the conversation at `now`. Asked by the fan-out for offline recipients only,
 * so a send to a large group costs nothing here while its members are online.
 */
export function notifies(state: ConversationState, userId: string, now: number): boolean {
  const member = state.members.get(userId);
  if (member?.isActive !== true) return false;
  const until = mutedUntil(member.settings);
  return until === null || until <= now;
}
