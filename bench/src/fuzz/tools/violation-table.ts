/**
 * Condenses the violations of fuzz reports into one table: grouped by property
 * and reason (what the node sent aside), with counts and the smallest frame of
 * each group, for a bug list.
 *
 *   pnpm exec tsx bench/src/fuzz/tools/violation-table.ts bench/results/<run>/results.json [more…]
 */
import { readFileSync } from 'node:fs';
import type { FuzzResult } from '../run/fuzz-result.ts';
import type { FrameEvidence } from '../oracle/violations.ts';

interface Group {
  property: string;
  reason: string;
  count: number;
  example: FrameEvidence | null;
  observed: string;
}

const groups = new Map<string, Group>();
for (const file of process.argv.slice(2)) {
  const result = JSON.parse(readFileSync(file, 'utf8')) as FuzzResult;
  for (const v of result.violations) {
    const [reason = '', observed = ''] = v.detail.split('; observed ');
    // Internal replies differ only by their message: group on it.
    const key = `${v.property}\u0000${v.property === 'internal-reply' ? /"message":"([^"]*)"/.exec(observed)?.[1] ?? '' : reason}`;
    const group = groups.get(key) ?? { property: v.property, reason, count: 0, example: null, observed };
    group.count += v.count;
    if (v.example !== null && (group.example === null || v.example.bytes < group.example.bytes)) {
      group.example = v.example;
      group.observed = observed;
    }
    groups.set(key, group);
  }
}

for (const g of [...groups.values()].sort((a, b) => a.property.localeCompare(b.property) || b.count - a.count)) {
  process.stdout.write(`${String(g.count).padStart(7)}  ${g.property}: ${g.reason}\n`);
  if (g.observed !== '') process.stdout.write(`         observed: ${g.observed.slice(0, 300)}\n`);
  if (g.example !== null) {
    process.stdout.write(`         frame (${g.example.encoding}, ${g.example.bytes} bytes, seed ${g.example.seed} index ${g.example.index}; ${g.example.labels.join(' | ')}):\n`);
    process.stdout.write(`         ${g.example.frame.slice(0, 600)}\n`);
  }
}
