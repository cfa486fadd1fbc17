import t from 'tap';
import type { Message, SyncConversation } from '@whispr/protocol';
import { SyncTracker } from '../src/sync-tracker.ts';
import type { SyncCursor } from '../src/client.ts';
import type { SyncResult } from '@whispr/protocol';

const A = '0190f5b2-7c3e-7a10-8b2c-3d4e5f607182';
const B = '0190f5b2-7c3e-7a10-8b2c-3d4e5f607183';

function message(conversationId: string, seq: number): Message {
  return {
    id: `00000000-0000-7000-8000-${String(seq).padStart(12, '0')}`,
    conversation_id: conversationId,
    seq,
    sender_id: '11111111-1111-5111-8111-111111111111',
    type: 'text',
    content: new Uint8Array([seq]),
    metadata: {},
    reply_to_id: null,
    client_random: seq,
    sent_at: 1_700_000_000_000 + seq,
    edited_at: null,
    is_deleted: false,
    delete_for_everyone: false,
    attachments: [],
    reactions: [],
  };
}

function page(conversationId: string, seqs: number[], lastSeq: number, complete: boolean): SyncConversation {
  return { conversation_id: conversationId, messages: seqs.map((seq) => message(conversationId, seq)), last_seq: lastSeq, complete };
}

t.test('a message seen twice is new only the first time', async (t) => {
  const tracker = new SyncTracker();
  t.equal(tracker.observe({ conversation_id: A, seq: 1 }), true);
  t.equal(tracker.observe({ conversation_id: A, seq: 1 }), false);
  t.equal(tracker.observe({ conversation_id: B, seq: 1 }), true, 'seq is per conversation');
  t.equal(tracker.highestSeq(A), 1);
  t.equal(tracker.cursor(A), 1);
});

t.test('a gap keeps the cursor below it until the gap fills', async (t) => {
  const tracker = new SyncTracker();
  tracker.seed(A, 5);
  t.equal(tracker.observe({ conversation_id: A, seq: 10 }), true, 'live message ahead of the gap');
  t.equal(tracker.highestSeq(A), 10);
  t.equal(tracker.cursor(A), 5, 'sync must resume at 5, not 10, or 6..9 are lost');
  t.same(tracker.cursors(), [{ conversation_id: A, after_seq: 5 }]);
  for (const seq of [7, 6, 9]) t.equal(tracker.observe({ conversation_id: A, seq }), true);
  t.equal(tracker.cursor(A), 7);
  t.equal(tracker.observe({ conversation_id: A, seq: 10 }), false, 'still a duplicate while above the cursor');
  t.equal(tracker.observe({ conversation_id: A, seq: 8 }), true);
  t.equal(tracker.cursor(A), 10, 'filling the last hole moves the cursor over everything seen');
  t.equal(tracker.observe({ conversation_id: A, seq: 3 }), false, 'at or below a seeded cursor is had');
});

t.test('seed and cover never move backwards', async (t) => {
  const tracker = new SyncTracker();
  tracker.seed(A, 8);
  tracker.seed(A, 3);
  tracker.cover(A, 2);
  t.equal(tracker.cursor(A), 8);
  t.ok(tracker.has({ conversation_id: A, seq: 8 }));
  t.notOk(tracker.has({ conversation_id: A, seq: 9 }));
  t.notOk(tracker.has({ conversation_id: B, seq: 1 }), 'unknown conversation has nothing');
});

t.test('observeAll keeps order and drops duplicates', async (t) => {
  const tracker = new SyncTracker();
  tracker.observe({ conversation_id: A, seq: 2 });
  const fresh = tracker.observeAll([1, 2, 3, 3].map((seq) => message(A, seq)));
  t.same(fresh.map((m) => m.seq), [1, 3]);
});

t.test('absorb: complete covers up to last_seq, incomplete up to the last seq returned', async (t) => {
  const tracker = new SyncTracker();
  tracker.observe({ conversation_id: A, seq: 4 });
  const result: SyncResult = {
    conversations: [page(A, [1, 2, 4], 5, true), page(B, [1, 2, 3], 9, false)],
  };
  const { messages, incomplete } = tracker.absorb(result);
  t.same(messages.map((m) => [m.conversation_id, m.seq]), [[A, 1], [A, 2], [B, 1], [B, 2], [B, 3]], 'seq 4 was had');
  t.same(incomplete, [B]);
  t.equal(tracker.cursor(A), 5, 'seqs 3 and 5 were not returned: hidden from this user, not missing');
  t.equal(tracker.cursor(B), 3);
});

t.test('absorb does not loop on an incomplete page without messages', async (t) => {
  const tracker = new SyncTracker();
  const { incomplete } = tracker.absorb({ conversations: [page(A, [], 4, false)] });
  t.same(incomplete, []);
});

t.test('catchUp repeats sync from the returned cursors until every conversation is complete', async (t) => {
  const tracker = new SyncTracker();
  tracker.seed(A, 0);
  tracker.seed(B, 2);
  tracker.observe({ conversation_id: B, seq: 4 }); // arrived live during the outage
  // Scripted replies of a server holding A: 1..3 and B: 1..5, two messages per page.
  const log: Record<string, number> = { [A]: 3, [B]: 5 };
  const calls: SyncCursor[][] = [];
  const source = {
    async sync(cursors: SyncCursor[], limit?: number): Promise<SyncResult> {
      calls.push(cursors);
      const per = limit ?? 100;
      return {
        conversations: cursors.map(({ conversation_id, after_seq }) => {
          const last = log[conversation_id] ?? 0;
          const seqs: number[] = [];
          for (let seq = after_seq + 1; seq <= last && seqs.length < per; seq++) seqs.push(seq);
          return page(conversation_id, seqs, last, (seqs.at(-1) ?? after_seq) >= last);
        }),
      };
    },
  };
  const got = await tracker.catchUp(source, { limit: 2 });
  t.same(calls, [
    [{ conversation_id: A, after_seq: 0 }, { conversation_id: B, after_seq: 2 }],
    [{ conversation_id: A, after_seq: 2 }, { conversation_id: B, after_seq: 4 }],
  ]);
  t.same(got.map((m) => [m.conversation_id, m.seq]), [[A, 1], [A, 2], [B, 3], [A, 3], [B, 5]], 'B 4 is not returned twice');
  t.equal(tracker.cursor(A), 3);
  t.equal(tracker.cursor(B), 5);
  t.same(await tracker.catchUp(source), [], 'a second catch-up finds nothing new');
});
