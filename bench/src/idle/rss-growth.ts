/**
 * What idle connections cost each node in memory: its RSS before the first
 * connection, while they are opened (against how many it holds: the slope is
 * what one more connection costs), and while it holds them all. The nodes
 * together are reported the same way, so one node's figures read as before.
 */
import { slope } from '../metrics/slope.ts';
import { sampleProcess } from '../metrics/process-stats.ts';

export interface RssFigures {
  connections: number;
  /** (RSS holding them − RSS before) / connections: one-time growth (heap, JIT code) included. */
  bytes_per_connection: number | null;
  /** Slope of RSS over connections while they were opened, over the last three quarters. */
  marginal_bytes_per_connection: number | null;
  rss_mb_before: number | null;
  rss_mb_held: number | null;
}

const MB = 2 ** 20;
const mb = (bytes: number | null): number | null => (bytes === null ? null : Math.round((bytes / MB) * 10) / 10);

export class RssGrowth {
  private readonly before: Array<number | null>;
  private held: Array<number | null>;
  /** Per node: (connections it held, its RSS) at each sample. */
  private readonly growth: Array<Array<[number, number]>>;

  constructor(private readonly pids: ReadonlyArray<number | null>) {
    this.before = this.rss();
    this.held = pids.map(() => null);
    this.growth = pids.map(() => []);
  }

  /** A sample while connecting, with each node's open connections. */
  record(connectedByNode: readonly number[]): void {
    const rss = this.rss();
    // All nodes or none, so the k-th samples of the nodes stay simultaneous (total() adds them up).
    if (rss.includes(null)) return;
    rss.forEach((bytes, i) => this.growth[i]?.push([connectedByNode[i] ?? 0, bytes as number]));
  }

  /** The sample while every connection is held. */
  recordHeld(connectedByNode: readonly number[]): void {
    this.held = this.rss();
    this.record(connectedByNode);
  }

  perNode(connectedByNode: readonly number[]): RssFigures[] {
    return this.pids.map((_, i) => figures(connectedByNode[i] ?? 0, this.before[i] ?? null, this.held[i] ?? null, this.growth[i] ?? []));
  }

  /** The nodes together: summed RSS over all connections (with one node, that node's figures). */
  total(connectedByNode: readonly number[]): RssFigures {
    const connections = connectedByNode.reduce((a, b) => a + b, 0);
    const sum = (values: ReadonlyArray<number | null>): number | null => (values.includes(null) ? null : (values as number[]).reduce((a, b) => a + b, 0));
    // Summed growth: the i-th sample of every node was taken at the same instant.
    const samples = Math.min(...this.growth.map((g) => g.length));
    const growth = Array.from({ length: samples }, (_, k): [number, number] => [
      this.growth.reduce((s, g) => s + (g[k]?.[0] ?? 0), 0),
      this.growth.reduce((s, g) => s + (g[k]?.[1] ?? 0), 0),
    ]);
    return figures(connections, sum(this.before), sum(this.held), growth);
  }

  private rss(): Array<number | null> {
    return this.pids.map((pid) => (pid === null ? null : (sampleProcess(pid)?.rssBytes ?? null)));
  }
}

function figures(connections: number, before: number | null, held: number | null, growth: ReadonlyArray<[number, number]>): RssFigures {
  const marginal = slope(growth.filter(([n]) => n >= connections / 4));
  return {
    connections,
    bytes_per_connection: before !== null && held !== null && connections > 0 ? Math.round((held - before) / connections) : null,
    marginal_bytes_per_connection: marginal === null ? null : Math.round(marginal),
    rss_mb_before: mb(before),
    rss_mb_held: mb(held),
  };
}
