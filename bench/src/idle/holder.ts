/**
 * A child process that opens and holds idle authenticated connections for the
 * idle scenario, spread over the nodes (round-robin by the connection's index)
 * and over several 127.0.0.x source addresses so the ephemeral port range of one
 * address is not the limit. Driven over IPC (holder-protocol.ts).
 */
import { randomUUID } from 'node:crypto';
import { BenchSocket } from '../wire/bench-socket.ts';
import { mintToken } from '../wire/tokens.ts';
import { now } from '../util/time.ts';
import { runPool } from '../util/pool.ts';
import type { FromHolder, HolderStart, ToHolder } from './holder-protocol.ts';

const sockets: BenchSocket[] = [];
let dropped = 0;

const tell = (message: FromHolder): void => {
  process.send?.(message);
};

async function open(start: HolderStart): Promise<void> {
  const connectedByNode = start.urls.map(() => 0);
  let failed = 0;
  let firstError: string | null = null;
  const connectMs: number[] = [];
  const progress = setInterval(() => tell({ kind: 'progress', connectedByNode, failed }), 250);
  await runPool(Array.from({ length: start.count }, (_, i) => start.firstIndex + i), start.concurrency, async (index) => {
    try {
      const token = await mintToken(randomUUID(), start.jwtSecret);
      const node = index % start.urls.length;
      const t0 = now();
      const socket = await BenchSocket.connect({
        url: start.urls[node] as string,
        token,
        localAddress: start.sourceAddresses[index % start.sourceAddresses.length] as string,
        timeoutMs: 30_000,
      });
      connectMs.push(now() - t0);
      socket.onClose = () => dropped++;
      sockets.push(socket);
      connectedByNode[node] = (connectedByNode[node] ?? 0) + 1;
    } catch (err) {
      failed++;
      firstError ??= err instanceof Error ? err.message : String(err);
    }
  });
  clearInterval(progress);
  tell({ kind: 'connected', connectedByNode, failed, connectMs, firstError });
}

/** Pings every connection once: proof that each is still open and served. */
async function check(): Promise<void> {
  let alive = 0;
  await runPool(sockets, 500, async (socket) => {
    if (!socket.isOpen) return;
    try {
      await socket.call('ping', {});
      alive++;
    } catch {
      // counted as not alive
    }
  });
  tell({ kind: 'checked', alive, dropped });
}

async function closeAll(): Promise<void> {
  for (const socket of sockets) socket.onClose = null;
  await runPool(sockets, 1000, (socket) => socket.terminate());
  tell({ kind: 'closed' });
}

process.on('message', (message: ToHolder) => {
  const work = message.kind === 'start' ? open(message) : message.kind === 'check' ? check() : closeAll();
  work.catch((err: unknown) => {
    process.stderr.write(`holder: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
});
process.on('disconnect', () => process.exit(0));
