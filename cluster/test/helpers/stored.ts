/**
 * What PostgreSQL holds, checked against what clients were told (DESIGN.md
 * invariants 2-4): every acknowledged message stored once, with the id and seq
 * of its ack; per conversation the seqs exactly 1..N; no (sender, client_random)
 * twice. Returns the problems found (empty: all holds) rather than asserting, so
 * a test can report every one.
 */
import type { AckRecord } from './chat-load.ts';
import type { Pool } from './process-cluster.ts';

export interface StoredRow {
  id: string;
  conversation_id: string;
  seq: number;
  sender_id: string;
  client_random: number;
}

export async function storedRows(pg: Pool, conversationIds: string[]): Promise<StoredRow[]> {
  const result = await pg.query<StoredRow>(
    `SELECT id, conversation_id, seq::int8 AS seq, sender_id, client_random FROM messages WHERE conversation_id = ANY($1::uuid[]) ORDER BY conversation_id, seq`,
    [conversationIds],
  );
  return result.rows.map((r) => ({ ...r, seq: Number(r.seq), client_random: Number(r.client_random) }));
}

/** Seqs 1..N per conversation, with no (conversation, seq) or (sender, client_random) twice. */
export function gaplessProblems(rows: StoredRow[]): string[] {
  const problems: string[] = [];
  const byConversation = new Map<string, number[]>();
  const sends = new Set<string>();
  for (const r of rows) {
    byConversation.set(r.conversation_id, [...(byConversation.get(r.conversation_id) ?? []), r.seq]);
    const key = `${r.sender_id}:${r.client_random}`;
    if (sends.has(key)) problems.push(`(sender, client_random) ${key} stored twice`);
    sends.add(key);
  }
  for (const [id, seqs] of byConversation) {
    const sorted = [...seqs].sort((a, b) => a - b);
    const bad = sorted.findIndex((s, i) => s !== i + 1);
    if (bad >= 0) problems.push(`${id}: seqs are not 1..${sorted.length}: at position ${bad + 1} found ${sorted[bad]} (${sorted.slice(Math.max(0, bad - 2), bad + 3).join(',')})`);
  }
  return problems;
}

/** Every ack is a stored row with its id and seq; every row (when `allAcked`) was acknowledged. */
export function ackProblems(rows: StoredRow[], acks: AckRecord[], allAcked: boolean): string[] {
  const problems: string[] = [];
  const byId = new Map(rows.map((r) => [r.id, r]));
  const acked = new Set<string>();
  for (const a of acks) {
    const row = byId.get(a.id);
    if (!row) problems.push(`acknowledged ${a.conversationId} seq ${a.seq} (client_random ${a.clientRandom}) is not stored`);
    else if (row.seq !== a.seq || row.conversation_id !== a.conversationId || row.client_random !== a.clientRandom || row.sender_id !== a.senderId) {
      problems.push(`ack ${a.id} said ${a.conversationId} seq ${a.seq}, stored as ${row.conversation_id} seq ${row.seq}`);
    }
    acked.add(a.id);
  }
  if (allAcked) for (const r of rows) if (!acked.has(r.id)) problems.push(`stored ${r.conversation_id} seq ${r.seq} was never acknowledged`);
  return problems;
}
