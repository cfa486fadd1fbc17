/** The seqs one client holds of one conversation: what it has, where its gap-free prefix ends, what it lacks. */
export class SeqSet {
  private readonly seqs = new Set<number>();
  private prefixEnd = 0;

  get size(): number {
    return this.seqs.size;
  }

  /** Adds a seq; false when it was already there (a repeated delivery). */
  add(seq: number): boolean {
    if (this.seqs.has(seq)) return false;
    this.seqs.add(seq);
    while (this.seqs.has(this.prefixEnd + 1)) this.prefixEnd++;
    return true;
  }

  /** The highest seq up to which nothing is missing (the cursor a client syncs from). */
  contiguousEnd(): number {
    return this.prefixEnd;
  }

  hasAll(last: number): boolean {
    return this.prefixEnd >= last;
  }

  missing(last: number): number {
    let missing = 0;
    for (let seq = 1; seq <= last; seq++) if (!this.seqs.has(seq)) missing++;
    return missing;
  }
}
