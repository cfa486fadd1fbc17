/**
 * Transport ceiling: the same msg.send frames, through the same client code path
 * (ws + msgpack encode per send, decode per reply), with the same connections and
 * window, against a bare uWebSockets.js echo in another process. What the node
 * achieves can never exceed this on the same machine.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import WebSocket from 'ws';
import { decodeServerFrame, encodeFrame } from '@whispr/protocol';
import { makeContent } from '../load/content.ts';
import { stopChild } from '../target/spawn-node.ts';
import { guardChild } from '../util/child-guard.ts';
import { repoRoot } from '../util/repo-root.ts';
import { now, sleep } from '../util/time.ts';

export interface TransportCeilingOptions {
  connections: number;
  window: number;
  contentBytes: number;
  seconds: number;
}

export interface TransportCeilingResult {
  per_s: number;
  connections: number;
  window: number;
  seconds: number;
}

export async function measureTransportCeiling(options: TransportCeilingOptions): Promise<TransportCeilingResult> {
  const server = guardChild(
    spawn(process.execPath, ['--import', 'tsx', 'bench/src/ceilings/echo-server.ts'], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  );
  try {
    const port = await readPort(server.stdout);
    const sockets = await Promise.all(Array.from({ length: options.connections }, () => open(`ws://127.0.0.1:${port}/`)));
    let echoed = 0;
    let counting = false;
    let running = true;
    sockets.forEach((ws, index) => {
      const conversationId = randomUUID();
      let clientRandom = 1;
      const sendOne = (): void => {
        const n = clientRandom++;
        ws.send(encodeFrame({ id: n, op: 'msg.send', conversation_id: conversationId, client_random: n, type: 'text', content: makeContent(index, n, options.contentBytes) }, 'msgpack'));
      };
      ws.on('message', (data: Buffer) => {
        decodeServerFrame(data, 'msgpack');
        if (counting) echoed++;
        if (running) sendOne();
      });
      for (let i = 0; i < options.window; i++) sendOne();
    });
    await sleep(300); // warm-up: JIT and socket buffers
    counting = true;
    const startedAt = now();
    await sleep(options.seconds * 1000);
    counting = false;
    const elapsed = (now() - startedAt) / 1000;
    running = false;
    await Promise.all(sockets.map((ws) => new Promise<void>((resolve) => (ws.once('close', () => resolve()), ws.terminate()))));
    return { per_s: echoed / elapsed, connections: options.connections, window: options.window, seconds: options.seconds };
  } finally {
    await stopChild(server);
  }
}

function readPort(stdout: NodeJS.ReadableStream | null): Promise<number> {
  return new Promise((resolve, reject) => {
    if (stdout === null) return reject(new Error('echo server has no stdout'));
    const timer = setTimeout(() => reject(new Error('echo server did not start')), 20_000);
    const lines = createInterface({ input: stdout });
    lines.once('line', (line) => {
      clearTimeout(timer);
      const port = (JSON.parse(line) as { port?: unknown }).port;
      if (typeof port === 'number') resolve(port);
      else reject(new Error(`echo server said ${line}`));
    });
  });
}

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.binaryType = 'nodebuffer';
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}
