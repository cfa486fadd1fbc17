/**
 * A client that floods the node with requests for conversations that do not
 * exist: msg.send, msg.history and conv.get in turn, each naming a fresh random
 * UUID, pipelined over its own connections as fast as the node answers them
 * (a window of requests in flight per connection, refilled on every reply).
 * It counts the answers by code; every one should be not_found or, for the
 * sends, rate_limited.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { now } from '../util/time.ts';
import type { BenchSocket, ReplyFrame } from '../wire/bench-socket.ts';

export interface FloodResult {
  requests: number;
  answered: number;
  byCode: Record<string, number>;
  /** From the first request to the last answer. */
  seconds: number;
}

const OPS = ['msg.send', 'msg.history', 'conv.get'] as const;

function fieldsFor(op: (typeof OPS)[number]): Record<string, unknown> {
  const conversation_id = randomUUID();
  if (op === 'msg.send') return { conversation_id, client_random: randomInt(-(2 ** 31), 2 ** 31), type: 'text', content: Buffer.from('flood') };
  if (op === 'msg.history') return { conversation_id, limit: 50 };
  return { conversation_id };
}

/** Sends `total` requests over `sockets`, `window` in flight on each, and resolves when all are answered. */
export function flood(sockets: readonly BenchSocket[], total: number, window: number): Promise<FloodResult> {
  const byCode: Record<string, number> = {};
  let sent = 0;
  let answered = 0;
  const started = now();
  return new Promise((resolve) => {
    const finish = (): void => resolve({ requests: sent, answered, byCode, seconds: (now() - started) / 1000 });
    const next = (socket: BenchSocket): void => {
      if (sent >= total) return;
      const op = OPS[sent % OPS.length] as (typeof OPS)[number];
      sent++;
      socket.request(op, fieldsFor(op), (reply: ReplyFrame) => {
        const code = reply.ok ? 'ok' : (reply.error?.code ?? 'unknown');
        byCode[code] = (byCode[code] ?? 0) + 1;
        answered++;
        // A closed socket answers at once with connection_closed: the count still reaches the total.
        if (answered === total) finish();
        else next(socket);
      });
    };
    if (total === 0 || sockets.length === 0) return finish();
    for (const socket of sockets) for (let i = 0; i < window; i++) next(socket);
  });
}
