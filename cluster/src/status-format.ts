/** `pnpm cluster status` as text for a terminal (cluster-status.ts reads it; --json prints it raw). */
import type { ClusterStatus, ConversationStatus, NodeStatus } from './cluster-status.ts';
import type { NodeReport } from './node-report.ts';

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

function table(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => `  ${r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ')}`.trimEnd());
}

function viewOf(n: NodeStatus, ringSlots: readonly string[]): string {
  const v = n.view;
  if (v === null) return '';
  if ('error' in v) return `unreachable (${v.error})`;
  if (!('ring' in v)) return 'starting';
  const report: NodeReport = v;
  const same = report.ring.slots.length === ringSlots.length && report.ring.slots.every((s, i) => s === ringSlots[i]);
  const drops = Object.values(report.bus.dropped).reduce((a, b) => a + b, 0);
  const gaps = Object.values(report.bus.received).reduce((a, r) => a + r.gaps, 0);
  return [
    report.serving ? 'serving' : 'NOT serving',
    `ring generation ${report.ring.generation}${same ? '' : ` (its ring differs: ${report.ring.slots.length} slots)`}`,
    report.bus.connected ? 'bus up' : 'bus DOWN',
    ...(drops > 0 ? [`${drops} bus payloads dropped`] : []),
    ...(gaps > 0 ? [`${gaps} bus gaps`] : []),
  ].join(', ');
}

function conversationLines(c: ConversationStatus): string[] {
  const ring = c.ring ? `slot ${c.ring.slot} on ${c.ring.node}` : 'no owner (the ring is empty)';
  const mirror = c.registry ?? 'no entry (no live actor, or not mirrored yet: the mirror is written at the shard’s next sweep)';
  let row: string;
  if (c.row === null) row = 'no such conversation';
  else if ('error' in c.row && typeof c.row.error === 'string') row = `not read: ${c.row.error} (set DATABASE_URL as the nodes have it)`;
  else {
    const r = c.row;
    row = Object.entries(r).map(([k, v]) => `${k} ${String(v)}`).join(', ');
    if (!('owner_epoch' in r)) row += '\n                           (no owner_epoch/owner_node columns: the ownership fence migration is not applied)';
  }
  const lines = [`Conversation ${c.id}`, `  ring:                    ${ring}`, `  conversation_registry:   ${mirror}`, `  PostgreSQL row:          ${row}`];
  const mirrorNode = c.registry?.split('/')[0];
  if (c.ring && mirrorNode !== undefined && mirrorNode !== c.ring.node) {
    lines.push(`  note: the mirror names ${mirrorNode}, the ring ${c.ring.node}: the conversation moved and ${mirrorNode}'s actor (or its entry) is still there; requests go to ${c.ring.node}`);
  }
  return lines;
}

export function formatStatus(s: ClusterStatus, redisUrl: string): string {
  const live = s.nodes.filter((n) => n.live);
  const lines = [`Cluster ${JSON.stringify(s.redisPrefix)} on ${redisUrl} (grace ${s.graceMs} ms): ${live.length} live node${live.length === 1 ? '' : 's'}, ${s.ringSlots.length} slot${s.ringSlots.length === 1 ? '' : 's'} in the ring`];
  if (s.nodes.length === 0) lines.push('  no node in the registry (none started with this REDIS_URL and WHISPR_REDIS_PREFIX, or Redis lost its keys)');
  else {
    lines.push('');
    lines.push(...table([
      ['node', 'state', 'incarnation', 'address', 'slots', 'heartbeat', 'its own view'],
      ...s.nodes.map((n) => [
        n.nodeId,
        n.live ? 'live' : n.incarnation === null ? 'no entry' : 'lapsed',
        n.incarnation ?? '-',
        n.address ?? '-',
        n.slots.join(',') || '-',
        `${seconds(n.heartbeatAgeMs)} ago`,
        viewOf(n, s.ringSlots),
      ]),
    ]));
  }
  if (s.conversation) lines.push('', ...conversationLines(s.conversation));
  return `${lines.join('\n')}\n`;
}
