/** How the terminal chat shows messages and conversations. */
import type { Conversation, Message } from '@whispr/protocol';
import { textOf } from '../content.ts';

/** userId → display name, for the users this chat knows by name. */
export type Names = ReadonlyMap<string, string>;

export function displayName(userId: string, names: Names): string {
  return names.get(userId) ?? userId.slice(0, 8);
}

/** Local wall-clock time of an epoch-ms timestamp, HH:MM:SS. */
export function clock(ms: number): string {
  const date = new Date(ms);
  return [date.getHours(), date.getMinutes(), date.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

/** A conversation as the user thinks of it: the other person, or the group's name. */
export function conversationLabel(conversation: Conversation, selfId: string, names: Names): string {
  if (conversation.type === 'direct') {
    const other = conversation.members.find((member) => member.user_id !== selfId);
    return other ? `@${displayName(other.user_id, names)}` : '@(nobody)';
  }
  const title = conversation.metadata.name;
  return `#${typeof title === 'string' && title ? title : conversation.id.slice(0, 8)}`;
}

/**
 * `[time] alice: text`, prefixed with the conversation's label when it is not the
 * one the user is in, so a message elsewhere is not mistaken for a reply here.
 */
export function formatMessage(message: Message, names: Names, label: string | null): string {
  const where = label === null ? '' : `${label} `;
  const time = `[${clock(message.sent_at)}]`;
  if (message.is_deleted) return `${time} ${where}${displayName(message.sender_id, names)}: (deleted)`;
  if (message.type === 'system') return `${time} ${where}* ${textOf(message)}`;
  const body = message.type === 'media' ? `(media, ${message.attachments.length} attachment(s)) ${textOf(message)}` : textOf(message);
  return `${time} ${where}${displayName(message.sender_id, names)}: ${body}`;
}

export function formatListEntry(index: number, label: string, unread: number, current: boolean): string {
  return `${String(index).padStart(3)}. ${label}${unread > 0 ? ` (${unread} unread)` : ''}${current ? '  <- current' : ''}`;
}
