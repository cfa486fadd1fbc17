/**
 * What a shard knows of the cluster: this node's id and the live nodes with their
 * incarnations (the fan-out reads presence against them). The node's main thread
 * follows the registry and writes the view into shared memory; every shard,
 * worker thread or inline, reads it. One writer, many readers, no messages: a
 * sequence lock (odd while writing) keeps readers from seeing half a write.
 */

/** Room for the serialized view; ~100 bytes a node, so thousands of nodes. */
const VIEW_BYTES = 256 * 1024;
const HEADER_INTS = 2; // [sequence, length]

export interface LiveNode {
  nodeId: string;
  incarnation: string;
}

export class ClusterView {
  private readonly header: Int32Array;
  private readonly bytes: Uint8Array;
  private seenSequence = -1;
  private cached: ReadonlyMap<string, string> = new Map();

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(HEADER_INTS * 4 + VIEW_BYTES)) {
    if (buffer.byteLength <= HEADER_INTS * 4) throw new TypeError('ClusterView: buffer is too small');
    this.header = new Int32Array(buffer, 0, HEADER_INTS);
    this.bytes = new Uint8Array(buffer, HEADER_INTS * 4);
  }

  /** Main thread: the live nodes now. */
  write(nodes: readonly LiveNode[]): void {
    const encoded = new TextEncoder().encode(JSON.stringify(nodes.map((n) => [n.nodeId, n.incarnation])));
    if (encoded.byteLength > this.bytes.byteLength) throw new RangeError(`ClusterView: ${nodes.length} nodes do not fit in ${this.bytes.byteLength} bytes`);
    Atomics.add(this.header, 0, 1); // odd: writing
    this.bytes.set(encoded);
    Atomics.store(this.header, 1, encoded.byteLength);
    Atomics.add(this.header, 0, 1); // even: done
  }

  /** Any thread: live node id → incarnation. Decoded again only when the view changed. */
  liveNodes(): ReadonlyMap<string, string> {
    for (let attempt = 0; attempt < 100; attempt++) {
      const before = Atomics.load(this.header, 0);
      if (before === this.seenSequence) return this.cached;
      if (before % 2 === 1) continue;
      const length = Atomics.load(this.header, 1);
      const copy = this.bytes.slice(0, length);
      if (Atomics.load(this.header, 0) !== before) continue;
      const entries = length === 0 ? [] : (JSON.parse(new TextDecoder().decode(copy)) as [string, string][]);
      this.cached = new Map(entries);
      this.seenSequence = before;
      return this.cached;
    }
    // A writer kept the lock through every attempt (it cannot, it writes in microseconds): keep the last view.
    return this.cached;
  }
}
