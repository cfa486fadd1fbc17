/**
 * The counters behind {@link BusStats}, kept live so /metrics reads them without
 * copying. Peer maps are keyed by node id; ids come from envelopes (validated,
 * but chosen by whoever publishes), so past a bound new peers share one bucket.
 */
import { BUS_DROP_REASONS, type BusDropReason, type BusLinkCounters, type BusReceiveCounters, type BusStats } from './bus.ts';

const MAX_PEERS = 1024;
/** The bucket for peers beyond MAX_PEERS. */
export const OTHER_PEERS = '(other)';

export class BusCounters implements BusStats {
  readonly sent = new Map<string, BusLinkCounters>();
  readonly received = new Map<string, BusReceiveCounters>();
  readonly dropped = Object.fromEntries(BUS_DROP_REASONS.map((reason) => [reason, 0])) as Record<BusDropReason, number>;
  readonly unacked: BusLinkCounters = { messages: 0, bytes: 0 };
  listenerErrors = 0;

  drop(reason: BusDropReason): void {
    this.dropped[reason]++;
  }

  countSent(toNode: string, bytes: number): void {
    const link = peer(this.sent, toNode, () => ({ messages: 0, bytes: 0 }));
    link.messages++;
    link.bytes += bytes;
  }

  countReceived(fromNode: string, bytes: number, gaps: number): void {
    const link = peer(this.received, fromNode, () => ({ messages: 0, bytes: 0, gaps: 0 }));
    link.messages++;
    link.bytes += bytes;
    link.gaps += gaps;
  }
}

function peer<T>(map: Map<string, T>, id: string, create: () => T): T {
  let entry = map.get(id);
  if (entry === undefined) {
    const key = map.size < MAX_PEERS ? id : OTHER_PEERS;
    entry = map.get(key) ?? create();
    map.set(key, entry);
  }
  return entry;
}
