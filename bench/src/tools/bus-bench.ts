/**
 * Measures the bus transports against each other (docs/architecture.md, "The bus"):
 *
 *   pnpm exec tsx bench/src/tools/bus-bench.ts [--transports pubsub,streams] [--items 1,10,100]
 *     [--item-bytes 300] [--seconds 4] [--redis-url redis://…] [--json out.json]
 *
 * For each transport and batch size, two processes (bus-bench-peer.ts): a sender
 * that batches items through BusBatcher, a receiver that splits them. Two phases:
 * paced (200 batches/s) for one-way latency on an idle link, then as fast as an
 * end-to-end window of outstanding batches allows, for throughput, latency under
 * load and CPU per item on both ends and in Redis.
 *
 * Without --redis-url it starts a redis-server of its own on a free port, so Redis's
 * CPU (INFO cpu) is the run's alone and the shared Redis is left in peace.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
// The cluster tests' throwaway redis-server (free port, no persistence) is exactly what a run needs.
import { startRedisServer } from '../../../cluster/test/helpers/redis-server.ts';
import type { PeerConfig, PeerReport, Transport } from './bus-bench-peer.ts';
import { streamKey } from './bus-bench-streams.ts';

const PEER = new URL('./bus-bench-peer.ts', import.meta.url);

interface RunResult {
  transport: Transport;
  items: number;
  latencyP50Us: number;
  latencyP99Us: number;
  loadedP50Us: number;
  loadedP99Us: number;
  itemsPerS: number;
  batchesPerS: number;
  senderCpuUsPerItem: number;
  receiverCpuUsPerItem: number;
  redisCpuUsPerItem: number;
  senderCpuUsPerBatch: number;
  receiverCpuUsPerBatch: number;
  redisCpuUsPerBatch: number;
  refusedBatches: number;
  malformed: number;
  gaps: number;
  streamMemoryBytes: number | null;
  streamLength: number | null;
}

function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function redisCpuUs(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const read = (field: string): number => Number(new RegExp(`${field}:([\\d.]+)`).exec(info)?.[1] ?? NaN);
  return (read('used_cpu_user') + read('used_cpu_sys')) * 1e6;
}

function startPeer(config: PeerConfig): ChildProcess {
  const child = fork(PEER, [JSON.stringify(config)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return child;
}

/**
 * Waits for a child's report of one type. One listener per call that stays until it
 * matches: IPC messages can arrive several in one tick, so re-arming `once` would lose some.
 */
function nextReport<T extends PeerReport['type']>(child: ChildProcess, type: T, timeoutMs: number): Promise<Extract<PeerReport, { type: T }>> {
  return new Promise((resolve, reject) => {
    const settle = (): void => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const onMessage = (message: PeerReport): void => {
      if (message.type !== type) return;
      settle();
      resolve(message as Extract<PeerReport, { type: T }>);
    };
    const onExit = (code: number | null): void => {
      settle();
      reject(new Error(`a bench peer exited with ${String(code)} before reporting ${type}`));
    };
    const timer = setTimeout(() => {
      settle();
      reject(new Error(`no ${type} report within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** Resolves when the child has exited, also if it already has (a late `once('exit')` would wait forever). */
async function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await once(child, 'exit');
}

async function runOne(redis: Redis, redisUrl: string, transport: Transport, items: number, itemBytes: number, seconds: number): Promise<RunResult> {
  const prefix = `bench:bus:${randomBytes(4).toString('hex')}:`;
  const base = {
    transport,
    redisUrl,
    prefix,
    items,
    itemBytes,
    warmupMs: 500,
    latencyMs: 3000,
    latencyBatchesPerS: 200,
    throughputMs: seconds * 1000,
    // ~8,000 items outstanding at most: ~2.4 MB of 300-byte items, far below Redis's 32 MiB pubsub buffer limit.
    window: Math.max(64, Math.ceil(8000 / items)),
  };
  // Generous: a loaded 2-core machine starts a tsx process in seconds, not milliseconds.
  const timeoutMs = base.warmupMs + base.latencyMs + base.throughputMs + 60_000;
  const receiver = startPeer({ ...base, role: 'receiver' });
  const sender = startPeer({ ...base, role: 'sender' });
  const peers = [sender, receiver];
  try {
    await Promise.all([nextReport(receiver, 'ready', timeoutMs), nextReport(sender, 'ready', timeoutMs)]);
    return await measure(redis, sender, receiver, base, timeoutMs);
  } finally {
    for (const peer of peers) if (peer.exitCode === null) peer.kill('SIGKILL');
  }
}

async function measure(redis: Redis, sender: ChildProcess, receiver: ChildProcess, base: Omit<PeerConfig, 'role'>, timeoutMs: number): Promise<RunResult> {
  const { transport, items, prefix } = base;
  receiver.on('message', (message: PeerReport) => {
    if (message.type === 'progress' && sender.connected) sender.send(message);
  });
  const receiverDone = nextReport(receiver, 'receiver-done', timeoutMs);
  const senderDone = nextReport(sender, 'sender-done', timeoutMs);
  const throughputStarted = nextReport(sender, 'throughput-start', timeoutMs);
  sender.send({ type: 'go' });
  await throughputStarted;
  const redisCpuStart = await redisCpuUs(redis);
  const [received, sent] = await Promise.all([receiverDone, senderDone]);
  sender.send({ type: 'finish' });
  const redisCpu = (await redisCpuUs(redis)) - redisCpuStart;
  let streamMemoryBytes: number | null = null;
  let streamLength: number | null = null;
  if (transport === 'streams') {
    const key = streamKey(prefix, 'bench-receiver');
    streamMemoryBytes = Number(await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0'));
    streamLength = await redis.xlen(key);
    await redis.del(key);
  }
  await Promise.all([exited(sender), exited(receiver)]);
  const perItem = (us: number): number => us / Math.max(1, received.items);
  const perBatch = (us: number): number => us / Math.max(1, received.batches);
  return {
    transport,
    items,
    latencyP50Us: percentile(received.latencyUs, 50),
    latencyP99Us: percentile(received.latencyUs, 99),
    loadedP50Us: percentile(received.loadedLatencyUs, 50),
    loadedP99Us: percentile(received.loadedLatencyUs, 99),
    itemsPerS: received.items / received.seconds,
    batchesPerS: received.batches / received.seconds,
    senderCpuUsPerItem: perItem(sent.cpuUs),
    receiverCpuUsPerItem: perItem(received.cpuUs),
    redisCpuUsPerItem: perItem(redisCpu),
    senderCpuUsPerBatch: perBatch(sent.cpuUs),
    receiverCpuUsPerBatch: perBatch(received.cpuUs),
    redisCpuUsPerBatch: perBatch(redisCpu),
    refusedBatches: sent.refusedBatches,
    malformed: received.malformed,
    gaps: received.gaps,
    streamMemoryBytes,
    streamLength,
  };
}

const fmt = (value: number, digits = 0): string => (Number.isFinite(value) ? value.toLocaleString('en-US', { maximumFractionDigits: digits }) : '—');

function table(results: RunResult[]): string {
  const lines = [
    '| transport | items/batch | idle p50 / p99 µs | loaded p50 / p99 µs | items/s | batches/s | CPU µs/item sender / receiver / Redis | CPU µs/batch sender / receiver / Redis |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    lines.push(
      `| ${r.transport} | ${r.items} | ${fmt(r.latencyP50Us)} / ${fmt(r.latencyP99Us)} | ${fmt(r.loadedP50Us)} / ${fmt(r.loadedP99Us)} | ${fmt(r.itemsPerS)} | ${fmt(r.batchesPerS)} | ` +
        `${fmt(r.senderCpuUsPerItem, 1)} / ${fmt(r.receiverCpuUsPerItem, 1)} / ${fmt(r.redisCpuUsPerItem, 1)} | ${fmt(r.senderCpuUsPerBatch)} / ${fmt(r.receiverCpuUsPerBatch)} / ${fmt(r.redisCpuUsPerBatch)} |`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      transports: { type: 'string', default: 'pubsub,streams' },
      items: { type: 'string', default: '1,10,100' },
      'item-bytes': { type: 'string', default: '300' },
      seconds: { type: 'string', default: '4' },
      'redis-url': { type: 'string' },
      json: { type: 'string' },
    },
  });
  const transports = values.transports.split(',').map((t) => {
    if (t !== 'pubsub' && t !== 'streams') throw new Error(`--transports: unknown transport ${JSON.stringify(t)} (pubsub, streams)`);
    return t;
  });
  const sizes = values.items.split(',').map(Number);
  if (!sizes.every((n) => Number.isInteger(n) && n > 0)) throw new Error('--items must be positive integers, e.g. 1,10,100');
  const itemBytes = Number(values['item-bytes']);
  const seconds = Number(values.seconds);
  if (!(itemBytes >= 9) || !(seconds > 0)) throw new Error('--item-bytes must be at least 9 and --seconds positive');

  const own = values['redis-url'] === undefined ? await startRedisServer() : null;
  // An interrupted run must not leave its redis-server behind.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void own?.stop().finally(() => process.exit(130)));
  const redisUrl = values['redis-url'] ?? own!.url;
  const redis = new Redis(redisUrl);
  const loadBefore = loadavg()[0]!;
  const results: RunResult[] = [];
  try {
    for (const items of sizes) {
      for (const transport of transports) {
        process.stderr.write(`bus-bench: ${transport}, ${items} item(s) per batch…\n`);
        results.push(await runOne(redis, redisUrl, transport, items, itemBytes, seconds));
      }
    }
  } finally {
    redis.disconnect();
    await own?.stop();
  }
  const loadAfter = loadavg()[0]!;
  process.stdout.write(`${table(results)}\n\n`);
  for (const r of results) {
    if (r.streamMemoryBytes !== null) {
      process.stdout.write(`streams, ${r.items} item(s): inbox stream ${fmt(r.streamLength ?? NaN)} entries, ${fmt(r.streamMemoryBytes / 1024 / 1024, 1)} MiB (MAXLEN ~ 10000)\n`);
    }
    if (r.refusedBatches + r.malformed + r.gaps > 0) process.stdout.write(`${r.transport}, ${r.items}: ${r.refusedBatches} refused, ${r.malformed} malformed, ${r.gaps} gaps\n`);
  }
  process.stdout.write(`load average (1 min) ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after; ${itemBytes}-byte items; ${own ? 'own redis-server' : redisUrl}\n`);
  if (values.json) writeFileSync(values.json, `${JSON.stringify({ itemBytes, seconds, loadBefore, loadAfter, results }, null, 2)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bus-bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
