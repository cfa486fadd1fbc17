/**
 * Children the bench starts (a node, the echo server, connection holders) must not
 * outlive it: a crashed run would otherwise leave a node eating CPU on a 2-core
 * machine and skew every later measurement. On exit, whatever is still running is killed.
 */
import type { ChildProcess } from 'node:child_process';

const children = new Set<ChildProcess>();

process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

export function guardChild(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}
