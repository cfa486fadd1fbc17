/**
 * The arguments of tools/across-nodes.ts: its own (--nodes, --rounds, --out,
 * --json) and everything else, which goes to both configurations' `pnpm bench
 * direct` as it is (so the two differ only in --nodes and --cross).
 */
import { MAX_NODES, UsageError } from '../cli/options.ts';

export interface AcrossNodesArgs {
  /** Nodes of the cross-node configuration (2 or more). */
  nodes: number;
  /** One-node then cross-node, this many times, alternating. */
  rounds: number;
  out: string | null;
  json: boolean;
  /** Options for `pnpm bench direct` shared by both configurations. */
  benchArgs: string[];
}

export const ACROSS_USAGE = `usage: pnpm exec tsx bench/src/tools/across-nodes.ts [--nodes N] [--rounds R] [--out DIR] [--json] [pnpm bench direct options]

Runs the direct scenario on one node, then on N nodes (default 2) with every
request crossing nodes (--cross), back to back in this one process, R times
alternating (default 1), and prints both configurations side by side with the
ratio of cross-node to one-node throughput of each round. Every other option
(--duration, --workers, --pairs, --window, --no-ceilings, ...) goes to both.
`;

const OWN_WITH_VALUE = new Set(['--nodes', '--rounds', '--out']);
/** Options that would make the two configurations something else than one node against N nodes crossing. */
const REFUSED = new Set(['--cross', '--url', '--server-pid', '--database-url', '--jwt-secret']);

export function parseAcrossArgs(argv: readonly string[]): AcrossNodesArgs {
  const own = new Map<string, string>();
  const benchArgs: string[] = [];
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const [name, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (name === '--help' || name === '-h') throw new UsageError(ACROSS_USAGE, 0);
    if (REFUSED.has(name)) throw new UsageError(`${name} is not for across-nodes: it runs the nodes itself, one node against --nodes N with --cross\n\n${ACROSS_USAGE}`);
    if (name === '--json') json = true;
    else if (OWN_WITH_VALUE.has(name)) {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new UsageError(`${name} needs a value`);
      own.set(name, value);
    } else if (!name.startsWith('-') && i === 0 && name === 'direct') continue; // `direct` may be named, it is implied
    else benchArgs.push(arg);
  }
  return {
    nodes: count(own.get('--nodes'), 2, '--nodes', 2, MAX_NODES),
    rounds: count(own.get('--rounds'), 1, '--rounds', 1, 20),
    out: own.get('--out') ?? null,
    json,
    benchArgs,
  };
}

function count(raw: string | undefined, fallback: number, name: string, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new UsageError(`${name} must be an integer from ${min} to ${max}, got ${raw}`);
  return value;
}
