/**
 * After a run, compares what the service acknowledged with what PostgreSQL holds:
 * every acknowledged message stored exactly once, at the seq and with the bytes it
 * was acknowledged with, seqs 1..N without holes in every conversation, and no
 * message stored that the service answered with an error.
 */
import pg from 'pg';
import { contentMd5, makeContent } from '../load/content.ts';
import type { Lane } from '../load/lanes.ts';

export interface Verification {
  checked: boolean;
  conversations: number;
  acked: number;
  stored_rows: number;
  /** acknowledged, not stored */
  lost: number;
  /** stored more than once (same sender and client_random, or one row acknowledged twice) */
  duplicated: number;
  /** stored, but at another seq or conversation, or with other bytes than acknowledged */
  mismatched: number;
  /** seqs missing from 1..last in some conversation */
  seq_gaps: number;
  /** answered with an error, stored anyway */
  failed_but_stored: number;
  /** stored rows the bench did not get an ack for (sends left unanswered at the end, system messages) */
  unacked_rows: number;
}

interface StoredRow {
  conversation_id: string;
  seq: string;
  id: string;
  sender_id: string;
  client_random: number;
  md5: string;
}

const CHUNK = 500;

export async function verifyMessages(databaseUrl: string, lanes: readonly Lane[], contentBytes: number): Promise<Verification> {
  const rows = await loadRows(databaseUrl, lanes.map((l) => l.conversationId));
  const byId = new Map<string, StoredRow>();
  const bySenderRandom = new Map<string, number>();
  const seqsByConversation = new Map<string, number[]>();
  let duplicated = 0;
  for (const row of rows) {
    byId.set(row.id, row);
    const key = `${row.sender_id}/${row.client_random}`;
    const seen = bySenderRandom.get(key) ?? 0;
    if (seen > 0) duplicated++;
    bySenderRandom.set(key, seen + 1);
    const seqs = seqsByConversation.get(row.conversation_id) ?? [];
    seqs.push(Number(row.seq));
    seqsByConversation.set(row.conversation_id, seqs);
  }
  let acked = 0;
  let lost = 0;
  let mismatched = 0;
  let failedButStored = 0;
  const ackedIds = new Set<string>();
  for (const lane of lanes) {
    for (const ack of lane.acked) {
      acked++;
      if (ackedIds.has(ack.id)) duplicated++; // two sends acknowledged with one stored message
      ackedIds.add(ack.id);
      const row = byId.get(ack.id);
      if (row === undefined) {
        lost++;
        continue;
      }
      const expectedMd5 = contentMd5(makeContent(ack.senderIndex, ack.clientRandom, contentBytes));
      if (
        row.conversation_id !== lane.conversationId ||
        Number(row.seq) !== ack.seq ||
        row.sender_id !== ack.senderId ||
        row.client_random !== ack.clientRandom ||
        row.md5 !== expectedMd5
      ) {
        mismatched++;
      }
    }
    for (const failed of lane.failed) {
      if (bySenderRandom.has(`${failed.senderId}/${failed.clientRandom}`)) failedButStored++;
    }
  }
  let gaps = 0;
  for (const seqs of seqsByConversation.values()) gaps += countGaps(seqs);
  return {
    checked: true,
    conversations: lanes.length,
    acked,
    stored_rows: rows.length,
    lost,
    duplicated,
    mismatched,
    seq_gaps: gaps,
    failed_but_stored: failedButStored,
    unacked_rows: rows.filter((r) => !ackedIds.has(r.id)).length,
  };
}

/** Integers of 1..max(seqs) that are absent, plus repeats. */
export function countGaps(seqs: number[]): number {
  if (seqs.length === 0) return 0;
  const sorted = [...seqs].sort((a, b) => a - b);
  let gaps = 0;
  let expected = 1;
  for (const seq of sorted) {
    if (seq < expected) {
      gaps++; // repeated seq (the unique constraint should make this impossible)
      continue;
    }
    gaps += seq - expected;
    expected = seq + 1;
  }
  return gaps;
}

async function loadRows(databaseUrl: string, conversationIds: string[]): Promise<StoredRow[]> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'whispr-bench-verify' });
  await client.connect();
  try {
    const rows: StoredRow[] = [];
    for (let i = 0; i < conversationIds.length; i += CHUNK) {
      const result = await client.query<StoredRow>(
        `SELECT conversation_id, seq, id, sender_id, client_random, md5(content) AS md5
           FROM messages WHERE conversation_id = ANY($1::uuid[])`,
        [conversationIds.slice(i, i + CHUNK)],
      );
      // Not push(...rows): a chunk can hold more rows than a call may take arguments.
      for (const row of result.rows) rows.push(row);
    }
    return rows;
  } finally {
    await client.end();
  }
}
