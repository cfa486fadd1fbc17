/** An actor's in-memory copy of its conversation (loaded from PostgreSQL, then kept by the actor). */
import type { Conversation, JsonObject, MemberRole } from '@whispr/protocol';
import { toConversation, type ConversationRow, type LoadedConversation, type MemberRow } from '@whispr/store';

export interface MemberState {
  userId: string;
  role: MemberRole;
  settings: JsonObject;
  joinedAt: number;
  lastReadAt: number | null;
  isActive: boolean;
  lastReadSeq: number;
  lastDeliveredSeq: number;
}

export class ConversationState {
  readonly row: ConversationRow;
  readonly members = new Map<string, MemberState>();
  /**
   * Users of a direct conversation whom the other one blocks (user_blocks): they
   * may not send into it. Loaded with the conversation so the send path asks no
   * query; ActorRegistry.blocksChanged reloads it when blocks change.
   */
  readonly blockedSenders = new Set<string>();

  constructor(loaded: LoadedConversation) {
    this.row = { ...loaded.row };
    for (const m of loaded.members) this.members.set(m.user_id, memberFromRow(m));
    for (const b of loaded.blocks) if (this.members.has(b.blocker_id)) this.blockedSenders.add(b.blocked_id);
  }

  isActiveMember(userId: string): boolean {
    return this.members.get(userId)?.isActive === true;
  }

  activeMemberIds(): string[] {
    const ids: string[] = [];
    for (const m of this.members.values()) if (m.isActive) ids.push(m.userId);
    return ids;
  }

  /** Active admins, earliest joined first. */
  activeAdmins(): MemberState[] {
    return [...this.members.values()].filter((m) => m.isActive && m.role === 'admin');
  }

  /** Replaces (or adds) a member from the row a write returned. */
  setMember(row: MemberRow): MemberState {
    const member = memberFromRow(row);
    this.members.set(member.userId, member);
    return member;
  }

  /** Exactly the two users of a direct conversation (what conv.direct checks before handing it out). */
  isDirectOf(a: string, b: string): boolean {
    return this.row.type === 'direct' && this.members.size === 2 && this.members.has(a) && this.members.has(b);
  }

  /** `viewer`'s own member entry carries its settings; nobody else's does (PROTOCOL.md §4). */
  toWire(lastSeq: number, viewer: string | null): Conversation {
    const members = [...this.members.values()].map((m) => ({
      user_id: m.userId,
      role: m.role,
      joined_at: m.joinedAt,
      last_read_at: m.lastReadAt,
      is_active: m.isActive,
      ...(m.userId === viewer ? { settings: m.settings } : {}),
    }));
    return toConversation(this.row, members, lastSeq);
  }
}

function memberFromRow(m: MemberRow): MemberState {
  return {
    userId: m.user_id,
    role: m.role,
    settings: m.settings,
    joinedAt: m.joined_at,
    lastReadAt: m.last_read_at,
    isActive: m.is_active,
    lastReadSeq: m.last_read_seq,
    lastDeliveredSeq: m.last_delivered_seq,
  };
}
