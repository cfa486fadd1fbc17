import t from 'tap';
import type { Conversation, Message } from '@whispr/protocol';
import { clock, conversationLabel, formatListEntry, formatMessage } from '../src/bin/chat-view.ts';

const ALICE = '11111111-1111-5111-8111-111111111111';
const BOB = '22222222-2222-5222-8222-222222222222';
const names = new Map([[ALICE, 'alice']]);
const at = new Date(2026, 0, 2, 9, 5, 7).getTime();

function message(fields: Partial<Message>): Message {
  return {
    id: '00000000-0000-7000-8000-000000000001',
    conversation_id: '33333333-3333-4333-8333-333333333333',
    seq: 1,
    sender_id: ALICE,
    type: 'text',
    content: new TextEncoder().encode('hi bob'),
    metadata: {},
    reply_to_id: null,
    client_random: 1,
    sent_at: at,
    edited_at: null,
    is_deleted: false,
    delete_for_everyone: false,
    attachments: [],
    reactions: [],
    ...fields,
  };
}

function conversation(fields: Partial<Conversation>): Conversation {
  const member = (user_id: string) => ({ user_id, role: 'member' as const, joined_at: at, last_read_at: null, is_active: true, settings: {} });
  return {
    id: '33333333-3333-4333-8333-333333333333',
    type: 'direct',
    external_group_id: null,
    metadata: {},
    created_at: at,
    updated_at: at,
    is_active: true,
    last_seq: 0,
    members: [member(ALICE), member(BOB)],
    ...fields,
  };
}

t.test('a message shows as [time] sender: text', async (t) => {
  t.equal(clock(at), '09:05:07');
  t.equal(formatMessage(message({}), names, null), '[09:05:07] alice: hi bob');
  t.equal(formatMessage(message({ sender_id: BOB }), names, '#team'), '[09:05:07] #team 22222222: hi bob', 'unknown names shorten the id');
  t.equal(formatMessage(message({ is_deleted: true, content: new Uint8Array() }), names, null), '[09:05:07] alice: (deleted)');
  t.match(formatMessage(message({ type: 'system', content: new TextEncoder().encode('bob joined') }), names, null), /\* bob joined$/);
});

t.test('conversations are labelled by the other person or the group name', async (t) => {
  t.equal(conversationLabel(conversation({}), ALICE, new Map([[BOB, 'bob']])), '@bob');
  t.equal(conversationLabel(conversation({ type: 'group', metadata: { name: 'team' } }), ALICE, names), '#team');
  t.equal(conversationLabel(conversation({ type: 'group' }), ALICE, names), '#33333333');
  t.equal(formatListEntry(2, '@bob', 3, true), '  2. @bob (3 unread)  <- current');
  t.equal(formatListEntry(10, '#team', 0, false), ' 10. #team');
});
