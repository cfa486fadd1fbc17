/**
 * The command line of `pnpm cluster` (launch.ts): start N local nodes, or
 * `status` to see a running cluster. Every value is checked here, before
 * anything starts, and a bad one is a UsageError whose message names it.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { isUuid } from '@whispr/protocol';

export const DEFAULT_NODES = 3;
export const MAX_NODES = 64;
export const DEFAULT_BASE_PORT = 8080;
export const DEFAULT_READY_TIMEOUT_S = 120;
export const DEFAULT_STOP_TIMEOUT_S = 20;

export const USAGE = `usage: npm run cluster -- [--nodes ${DEFAULT_NODES}] [--port ${DEFAULT_BASE_PORT}] [--workers N] [--ready-timeout ${DEFAULT_READY_TIMEOUT_S}] [--stop-timeout ${DEFAULT_STOP_TIMEOUT_S}]
       npm run cluster -- status [--conversation <id>] [--json]
       (with pnpm on PATH: pnpm cluster ..., without the --)

Starts N Whispr nodes on this machine, one process each, as one cluster: node-1
on --port, node-2 on the next port, and so on, all with the same PostgreSQL,
Redis and WHISPR_REDIS_PREFIX (found or started once, as \`npm start\` does, when
DATABASE_URL / REDIS_URL are not set). Waits until every node is ready, prints
their URLs and how to chat against any of them, prefixes each node's log lines
with its id, and stops them all on Ctrl-C (SIGTERM, then SIGKILL after
--stop-timeout seconds). Every other setting comes from the environment, as
for \`npm start\` (README.md, "Configuration").

  --nodes N            nodes to start, 1-${MAX_NODES} (default ${DEFAULT_NODES})
  --port P             port of node-1; node-i listens on P+i-1 (default ${DEFAULT_BASE_PORT})
  --workers N          shard worker threads per node, 0-256 (WHISPR_WORKERS; default
                       WHISPR_WORKERS when set, else 1: the nodes share this machine)
  --ready-timeout S    seconds to wait for every node's /readyz (default ${DEFAULT_READY_TIMEOUT_S})
  --stop-timeout S     seconds a node gets to stop before SIGKILL (default ${DEFAULT_STOP_TIMEOUT_S})

status: prints each node in the registry (id, incarnation, address, slots,
heartbeat age) and each live node's own view (GET /cluster). With
--conversation <id>: the slot and node the ring gives it, what the
conversation_registry mirror in Redis says, and its row in PostgreSQL (owner
columns when the ownership fence migration is applied). Reads REDIS_URL,
WHISPR_REDIS_PREFIX, WHISPR_NODE_GRACE_MS and DATABASE_URL as a node does.
--json prints the same as one JSON object.`;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface LaunchArgs {
  nodes: number;
  port: number;
  /** undefined: WHISPR_WORKERS from the environment, else 1. */
  workers: number | undefined;
  readyTimeoutMs: number;
  stopTimeoutMs: number;
}

export interface StatusArgs {
  conversation: string | undefined;
  json: boolean;
}

export type Command = { kind: 'launch'; args: LaunchArgs } | { kind: 'status'; args: StatusArgs } | { kind: 'help' };

function integer(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  // Digits only: Number('1e3') or parseInt('12abc') would accept a typo.
  if (!/^\d+$/.test(raw.trim())) throw new UsageError(`${name}: expected an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min || value > max) throw new UsageError(`${name}: expected an integer from ${min} to ${max}, got ${raw}`);
  return value;
}

function parse(argv: string[], options: NonNullable<ParseArgsConfig['options']>): { values: Record<string, unknown> } {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false });
  } catch (err) {
    // parseArgs' own messages name the option ("Unknown option '--nodez'").
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Parses argv (without node and the script). */
export function parseCommand(argv: string[]): Command {
  if (argv[0] === 'status') {
    const { values } = parse(argv.slice(1), {
      conversation: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    });
    if (values.help === true) return { kind: 'help' };
    const conversation = str(values.conversation)?.trim().toLowerCase();
    if (conversation !== undefined && !isUuid(conversation)) throw new UsageError(`--conversation: expected a conversation id (a UUID), got ${JSON.stringify(values.conversation)}`);
    return { kind: 'status', args: { conversation, json: values.json === true } };
  }
  if (argv[0] !== undefined && !argv[0].startsWith('-')) throw new UsageError(`unknown command ${JSON.stringify(argv[0])} (the commands are: status; no command starts a cluster)`);
  const { values } = parse(argv, {
    nodes: { type: 'string' },
    port: { type: 'string' },
    workers: { type: 'string' },
    'ready-timeout': { type: 'string' },
    'stop-timeout': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (values.help === true) return { kind: 'help' };
  const nodes = integer('--nodes', str(values.nodes), DEFAULT_NODES, 1, MAX_NODES);
  const port = integer('--port', str(values.port), DEFAULT_BASE_PORT, 1, 65535);
  if (port + nodes - 1 > 65535) throw new UsageError(`--port: ${nodes} consecutive ports from ${port} pass 65535`);
  const workersRaw = str(values.workers);
  return {
    kind: 'launch',
    args: {
      nodes,
      port,
      workers: workersRaw === undefined ? undefined : integer('--workers', workersRaw, 1, 0, 256),
      readyTimeoutMs: integer('--ready-timeout', str(values['ready-timeout']), DEFAULT_READY_TIMEOUT_S, 1, 3600) * 1000,
      stopTimeoutMs: integer('--stop-timeout', str(values['stop-timeout']), DEFAULT_STOP_TIMEOUT_S, 1, 3600) * 1000,
    },
  };
}
