/** Command-line options of `pnpm bench <scenario>`, with the defaults each scenario starts from. */
import { parseArgs } from 'node:util';
import { availableParallelism } from 'node:os';
import { DEFAULT_SHARD_WRITERS } from '../target/target.ts';

export const SCENARIOS = ['direct', 'group', 'idle', 'reconnect', 'history', 'flood'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface BenchOptions {
  scenario: ScenarioName;
  /** Measured seconds (after warm-up). */
  durationS: number;
  warmupS: number;
  pairs: number;
  window: number;
  /** Open-loop total arrival rate (sends per second); null means closed loop. */
  rate: number | null;
  groups: number;
  members: number;
  connections: number;
  /** history: messages per conversation; reconnect: messages sent while the clients are away. */
  messages: number;
  /** history: messages per page (default: the node's history_max). */
  pageSize: number | null;
  contentBytes: number;
  /** flood: requests the flooder sends (for conversations that do not exist). */
  floodRequests: number;
  /** flood: requests in flight per flooding connection. */
  floodWindow: number;
  floodConnections: number;
  /** flood: messages per second of the well-behaved pair (both users together). */
  pairRate: number;
  workers: number;
  /** Batch writers per shard (WHISPR_SHARD_WRITERS). */
  shardWriters: number;
  url: string | null;
  serverPid: number | null;
  databaseUrl: string | null;
  jwtSecret: string | null;
  /** Node processes the run starts as one cluster; clients are spread over them round-robin. */
  nodes: number;
  /** direct: every pair's conversation owned by a node other than the one both its clients use. */
  cross: boolean;
  json: boolean;
  out: string | null;
  ceilings: boolean;
  ceilingSeconds: number;
  progress: boolean;
  keep: boolean;
  /** Write the node's CPU profiles (main thread and workers) into the results folder. */
  profile: boolean;
  /** Longest wait for PostgreSQL to publish its row counters after the run. */
  statsWaitS: number;
}

/** More node processes than this only compete for the same cores; a typo such as --nodes 20 is caught early. */
export const MAX_NODES = 16;

export const USAGE = `usage: pnpm bench <${SCENARIOS.join('|')}> [options]

  --duration S        measured seconds (default 10)      --warmup S     unmeasured seconds first (default 1)
  --pairs P           direct: user pairs (default 50)    --window W     unacknowledged sends per sender (default 8)
  --rate R            open loop: R sends/s in total, latency from the intended send time (default: closed loop)
  --groups G          group: groups (default 4)          --members M    group: members per group (default 50)
  --connections C     idle/reconnect/history: clients (idle 1000, reconnect 200, history 20)
  --messages N        history: messages per conversation (2000); reconnect: messages sent while away (20 per client)
  --page-size N       history: messages per page (default: the node's history_max)
  --requests N        flood: requests for conversations that do not exist (default 20000)
  --flood-window W    flood: requests in flight per flooding connection (default 256)
  --flood-connections C  flood: the flooder's connections (default 2)
  --pair-rate R       flood: messages/s of the well-behaved pair (default 100; --duration is its phase alone)
  --content-bytes N   message body size (default 200)    --workers N    node shard workers (default: cores; 0: one shard in the main thread)
  --writers N         batch writers per shard (default 2, the node's default)
  --url ws://H:P/ws   drive a running node instead of starting one (needs --jwt-secret; --database-url to verify,
                      --server-pid for its RSS and CPU)
  --nodes N           start N nodes as one cluster (default 1, at most ${MAX_NODES}); clients are spread over them round-robin
  --cross             direct, with --nodes 2 or more: both clients of a pair on one node, their conversation owned
                      by another, so every request is forwarded and every event comes back across nodes
  --no-ceilings       skip the PostgreSQL and transport ceilings     --ceiling-seconds S  per trial (default 2)
  --json              last stdout line: one JSON object              --out DIR      results folder
  --no-progress       no progress bar                                --keep         keep the run's database
  --profile           write the node's CPU profiles (node --cpu-prof) into the results folder
  --stats-wait S      longest wait for pg_stat_user_tables to count the run's rows (default 12: idle
                      backends publish their counters up to 10 s late)
`;

export class UsageError extends Error {
  override name = 'UsageError';

  /** 0 when the user asked for help, 2 for a mistake. */
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}

export function parseOptions(argv: readonly string[]): BenchOptions {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      duration: { type: 'string' },
      warmup: { type: 'string' },
      pairs: { type: 'string' },
      window: { type: 'string' },
      rate: { type: 'string' },
      groups: { type: 'string' },
      members: { type: 'string' },
      connections: { type: 'string' },
      messages: { type: 'string' },
      'page-size': { type: 'string' },
      'content-bytes': { type: 'string' },
      requests: { type: 'string' },
      'flood-window': { type: 'string' },
      'flood-connections': { type: 'string' },
      'pair-rate': { type: 'string' },
      workers: { type: 'string' },
      writers: { type: 'string' },
      url: { type: 'string' },
      'server-pid': { type: 'string' },
      'database-url': { type: 'string' },
      'jwt-secret': { type: 'string' },
      nodes: { type: 'string' },
      cross: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      out: { type: 'string' },
      'no-ceilings': { type: 'boolean', default: false },
      'ceiling-seconds': { type: 'string' },
      'no-progress': { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      'stats-wait': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) throw new UsageError(USAGE, 0);
  const scenario = positionals[0];
  if (!isScenario(scenario)) throw new UsageError(`unknown or missing scenario ${JSON.stringify(scenario ?? '')}\n\n${USAGE}`);
  if (positionals.length > 1) throw new UsageError(`one scenario per run: unexpected ${JSON.stringify(positionals[1])} after ${scenario}`);
  const defaultConnections = { direct: 0, group: 0, idle: 1000, reconnect: 200, history: 20, flood: 0 }[scenario];
  const nodes = int(values.nodes, 1, 'nodes');
  if (nodes > MAX_NODES) throw new UsageError(`--nodes must be at most ${MAX_NODES}, got ${nodes}`);
  if (nodes > 1 && values.url !== undefined) throw new UsageError('--nodes starts a cluster of its own; --url drives one running node: use one or the other');
  if (values.cross && scenario !== 'direct') throw new UsageError(`--cross is for the direct scenario, not ${scenario}`);
  if (values.cross && nodes < 2) throw new UsageError(`--cross needs --nodes 2 or more, got ${nodes}: one node owns every conversation its clients use`);
  return {
    scenario,
    durationS: num(values.duration, 10, 'duration', 0.5),
    warmupS: num(values.warmup, 1, 'warmup', 0),
    pairs: int(values.pairs, 50, 'pairs'),
    window: int(values.window, 8, 'window'),
    rate: values.rate === undefined ? null : num(values.rate, 0, 'rate', 1),
    groups: int(values.groups, 4, 'groups'),
    members: int(values.members, 50, 'members', 2),
    connections: int(values.connections, defaultConnections, 'connections'),
    messages: int(values.messages, scenario === 'history' ? 2000 : 20, 'messages'),
    pageSize: values['page-size'] === undefined ? null : int(values['page-size'], 0, 'page-size'),
    contentBytes: int(values['content-bytes'], 200, 'content-bytes', 8),
    floodRequests: int(values.requests, 20_000, 'requests', 0),
    floodWindow: int(values['flood-window'], 256, 'flood-window'),
    floodConnections: int(values['flood-connections'], 2, 'flood-connections'),
    pairRate: num(values['pair-rate'], 100, 'pair-rate', 1),
    workers: int(values.workers, availableParallelism(), 'workers', 0),
    shardWriters: int(values.writers, DEFAULT_SHARD_WRITERS, 'writers'),
    url: values.url ?? null,
    serverPid: values['server-pid'] === undefined ? null : int(values['server-pid'], 0, 'server-pid'),
    databaseUrl: values['database-url'] ?? null,
    jwtSecret: values['jwt-secret'] ?? process.env['WHISPR_JWT_SECRET'] ?? null,
    nodes,
    cross: values.cross,
    json: values.json,
    out: values.out ?? null,
    ceilings: !values['no-ceilings'],
    ceilingSeconds: num(values['ceiling-seconds'], 2, 'ceiling-seconds', 0.2),
    progress: !values['no-progress'],
    keep: values.keep,
    profile: values.profile,
    statsWaitS: num(values['stats-wait'], 12, 'stats-wait', 0),
  };
}

const isScenario = (value: unknown): value is ScenarioName => SCENARIOS.includes(value as ScenarioName);

function num(raw: string | undefined, fallback: number, name: string, min = 0): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) throw new UsageError(`--${name} must be a number >= ${min}, got ${raw}`);
  return value;
}

function int(raw: string | undefined, fallback: number, name: string, min = 1): number {
  const value = num(raw, fallback, name, min);
  if (!Number.isInteger(value)) throw new UsageError(`--${name} must be an integer, got ${raw ?? ''}`);
  return value;
}
