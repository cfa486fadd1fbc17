/**
 * One end of a bus-bench.ts run, in a process of its own (so each end's CPU is its
 * own): `sender` batches items through a BusBatcher onto the transport under test,
 * `receiver` splits what arrives and measures it. Started by bus-bench.ts with its
 * configuration as JSON in argv[2]; reports over the IPC channel.
 *
 * Each item is `itemBytes` long; the first item of a batch carries the sender's
 * CLOCK_MONOTONIC (process.hrtime, system-wide on Linux, so comparable across
 * the two processes) at the moment the batch was started, and the phase:
 * 0 warm-up, 1 latency (paced), 2 throughput (as fast as the window allows), 3 end.
 */
import { splitBatch, DEFAULT_BATCH_LIMITS } from '../../../cluster/src/bus-batch-format.ts';
import { BusBatcher } from '../../../cluster/src/bus-batcher.ts';
import { RedisPubSubBus } from '../../../cluster/src/bus-redis.ts';
import { benchLogger } from './bus-bench-logger.ts';
import { StreamsBus } from './bus-bench-streams.ts';

export type Transport = 'pubsub' | 'streams';

export interface PeerConfig {
  role: 'sender' | 'receiver';
  transport: Transport;
  redisUrl: string;
  prefix: string;
  items: number;
  itemBytes: number;
  warmupMs: number;
  latencyMs: number;
  latencyBatchesPerS: number;
  throughputMs: number;
  /** Batches sent and not yet received, at most (end-to-end flow control, so no subscriber buffer overflows). */
  window: number;
}

export type PeerReport =
  | { type: 'ready' }
  | { type: 'progress'; batches: number }
  | { type: 'throughput-start' }
  | { type: 'sender-done'; cpuUs: number; batches: number; refusedBatches: number }
  | {
      type: 'receiver-done';
      latencyUs: number[];
      loadedLatencyUs: number[];
      items: number;
      batches: number;
      seconds: number;
      cpuUs: number;
      malformed: number;
      gaps: number;
    };

const SENDER = 'bench-sender';
const RECEIVER = 'bench-receiver';
const MAX_SAMPLES = 200_000;

interface Link {
  readonly connected: boolean;
  readonly maxPayloadBytes: number;
  send(toNode: string, payload: Uint8Array): boolean;
  onMessage(listener: (from: string, payload: Buffer) => void): void;
  start(): Promise<void>;
  close(): Promise<void>;
  malformedAndGaps(): { malformed: number; gaps: number };
}

function openLink(config: PeerConfig, nodeId: string): Link {
  const limits = { maxPayloadBytes: 4 * 1024 * 1024, maxUnackedMessages: 4096, maxUnackedBytes: 16 * 1024 * 1024 };
  if (config.transport === 'pubsub') {
    const bus = new RedisPubSubBus({ nodeId, prefix: config.prefix, redisUrl: config.redisUrl, logger: benchLogger(), ...limits });
    return {
      get connected() {
        return bus.connected;
      },
      maxPayloadBytes: bus.maxPayloadBytes,
      send: (to, payload) => bus.send(to, payload),
      onMessage: (listener) => bus.on('message', listener),
      start: () => bus.start(),
      close: () => bus.close(),
      malformedAndGaps: () => ({ malformed: bus.stats.dropped.malformed, gaps: [...bus.stats.received.values()].reduce((n, r) => n + r.gaps, 0) }),
    };
  }
  const bus = new StreamsBus({ nodeId, prefix: config.prefix, redisUrl: config.redisUrl, maxLength: 10_000, readCount: 1000, ...limits });
  return {
    get connected() {
      return bus.connected;
    },
    maxPayloadBytes: bus.maxPayloadBytes,
    send: (to, payload) => bus.send(to, payload),
    onMessage: (listener) => bus.on('message', listener),
    start: () => bus.start(),
    close: () => bus.close(),
    malformedAndGaps: () => ({ malformed: bus.malformed, gaps: 0 }),
  };
}

const report = (message: PeerReport): void => {
  if (process.connected) process.send?.(message);
};
const cpuUs = (): number => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

async function runSender(config: PeerConfig): Promise<void> {
  const link = openLink(config, SENDER);
  await link.start();
  let sent = 0;
  let refused = 0;
  let received = 0;
  let finished = false;
  const batcher = new BusBatcher({ bus: link, logger: benchLogger(), onRefused: () => refused++ });
  const filler = Buffer.alloc(config.itemBytes, 0x61);
  const sendBatch = (phase: number): boolean => {
    const first = Buffer.from(filler);
    first.writeBigUInt64BE(process.hrtime.bigint(), 0);
    first[8] = phase;
    if (!batcher.add(RECEIVER, first)) return false;
    for (let i = 1; i < config.items; i++) batcher.add(RECEIVER, filler);
    sent++;
    return true;
  };
  process.on('message', (message: { type: string; batches?: number }) => {
    if (message.type === 'progress') received = message.batches ?? received;
    if (message.type === 'go') void drive();
    if (message.type === 'finish') finished = true;
  });
  report({ type: 'ready' });

  const paced = async (phase: number, ms: number): Promise<void> => {
    const interval = 1000 / config.latencyBatchesPerS;
    const end = performance.now() + ms;
    let next = performance.now();
    while (performance.now() < end) {
      sendBatch(phase);
      next += interval;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - performance.now())));
    }
  };

  async function drive(): Promise<void> {
    await paced(0, config.warmupMs);
    await paced(1, config.latencyMs);
    await new Promise((resolve) => setTimeout(resolve, 200));
    report({ type: 'throughput-start' });
    const cpuStart = cpuUs();
    const batchesBefore = sent;
    const refusedBefore = refused;
    const end = performance.now() + config.throughputMs;
    await new Promise<void>((resolve) => {
      const pump = (): void => {
        if (performance.now() >= end) return resolve();
        // `refused` batches never arrive: take them out of what is outstanding.
        if (sent - refused - received < config.window) sendBatch(2);
        setImmediate(pump);
      };
      pump();
    });
    const cpu = cpuUs() - cpuStart;
    const throughputBatches = sent - batchesBefore;
    report({ type: 'sender-done', cpuUs: cpu, batches: throughputBatches, refusedBatches: refused - refusedBefore });
    // The end marker can be refused or lost like any batch: repeat it until the receiver has it.
    while (!finished) {
      sendBatch(3);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await link.close();
    // The IPC channel has a listener, which keeps the process alive until it is let go.
    process.disconnect?.();
  }
}

async function runReceiver(config: PeerConfig): Promise<void> {
  const link = openLink(config, RECEIVER);
  const latencyUs: number[] = [];
  const loadedLatencyUs: number[] = [];
  let batches = 0;
  let throughputBatches = 0;
  let items = 0;
  let throughputStart: { at: number; cpu: number } | null = null;
  let done = false;
  link.onMessage((_from, payload) => {
    const split = splitBatch(payload, DEFAULT_BATCH_LIMITS);
    if (typeof split === 'string') throw new Error(`bench receiver: a batch was rejected (${split})`);
    const first = split[0]!;
    const latency = Number(process.hrtime.bigint() - first.readBigUInt64BE(0)) / 1000;
    const phase = first[8];
    batches++;
    if (phase === 1 && latencyUs.length < MAX_SAMPLES) latencyUs.push(latency);
    if (phase === 2) {
      throughputStart ??= { at: performance.now(), cpu: cpuUs() };
      items += split.length;
      throughputBatches++;
      if (loadedLatencyUs.length < MAX_SAMPLES) loadedLatencyUs.push(latency);
    }
    if (phase === 3 && !done) {
      done = true;
      const started = throughputStart ?? { at: performance.now(), cpu: cpuUs() };
      report({
        type: 'receiver-done',
        latencyUs,
        loadedLatencyUs,
        items,
        batches: throughputBatches,
        seconds: (performance.now() - started.at) / 1000,
        cpuUs: cpuUs() - started.cpu,
        ...link.malformedAndGaps(),
      });
      clearInterval(progress);
      void link.close();
    }
  });
  const progress = setInterval(() => report({ type: 'progress', batches }), 5);
  await link.start();
  report({ type: 'ready' });
}

const config = JSON.parse(process.argv[2] ?? '{}') as PeerConfig;
(config.role === 'sender' ? runSender(config) : runReceiver(config)).catch((err: unknown) => {
  process.stderr.write(`bus-bench-peer ${config.role}: ${String(err)}\n`);
  process.exit(1);
});
