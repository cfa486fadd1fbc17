/** The idle scenario's side of its connection holders (holder.ts): start one, message it, wait for its answers. */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { guardChild } from '../util/child-guard.ts';
import { repoRoot } from '../util/repo-root.ts';
import type { FromHolder, ToHolder } from './holder-protocol.ts';

const HOLDER_PATH = fileURLToPath(new URL('./holder.ts', import.meta.url));

export interface Holder {
  child: ChildProcess;
  /** Open connections per node, as last reported. */
  connectedByNode: number[];
  next<K extends FromHolder['kind']>(kind: K): Promise<Extract<FromHolder, { kind: K }>>;
  send(message: ToHolder): void;
}

export function startHolder(nodes: number): Holder {
  const child = guardChild(fork(HOLDER_PATH, [], { cwd: repoRoot, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  const waiting = new Map<string, (message: FromHolder) => void>();
  const holder: Holder = {
    child,
    connectedByNode: Array.from({ length: nodes }, () => 0),
    next: (kind) =>
      new Promise((resolve, reject) => {
        waiting.set(kind, resolve as (message: FromHolder) => void);
        child.once('exit', (code) => reject(new Error(`connection holder exited (${code ?? 'signal'})`)));
      }),
    send: (message) => child.send(message),
  };
  child.on('message', (message: FromHolder) => {
    if (message.kind === 'progress' || message.kind === 'connected') holder.connectedByNode = message.connectedByNode;
    const resolve = waiting.get(message.kind);
    waiting.delete(message.kind);
    resolve?.(message);
  });
  return holder;
}

/** Connections open on each node over all holders. */
export function connectedByNode(holders: readonly Holder[], nodes: number): number[] {
  return Array.from({ length: nodes }, (_, i) => holders.reduce((sum, h) => sum + (h.connectedByNode[i] ?? 0), 0));
}
