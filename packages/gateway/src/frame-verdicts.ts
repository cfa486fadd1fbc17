/**
 * Counts a connection's consecutive undecodable frames in the order they were
 * read (PROTOCOL.md §3: 20 in a row close it with 1008; any valid frame resets
 * the count). A frame's verdict may come later than the next frame's: frames the
 * main thread hands on are decoded by a shard, whose reply says whether it could.
 * So each frame gets its read position, and the connection closes only once 20
 * consecutive positions are all known undecodable, whatever order the verdicts
 * arrive in.
 */
export class FrameVerdicts {
  private next = 0;
  /** The latest read position known to hold a valid frame. */
  private lastGood = -1;
  /** Positions after lastGood known undecodable. */
  private readonly bad = new Set<number>();

  constructor(private readonly limit: number) {}

  /** The read position of the next frame. */
  read(): number {
    return this.next++;
  }

  good(position: number): void {
    if (position <= this.lastGood) return;
    this.lastGood = position;
    for (const b of this.bad) if (b <= position) this.bad.delete(b);
  }

  /** Records an undecodable frame; true when it completes `limit` consecutive ones. */
  undecodable(position: number): boolean {
    if (position <= this.lastGood) return false;
    this.bad.add(position);
    let low = position;
    while (this.bad.has(low - 1)) low--;
    let high = position;
    while (this.bad.has(high + 1)) high++;
    return high - low + 1 >= this.limit;
  }
}
