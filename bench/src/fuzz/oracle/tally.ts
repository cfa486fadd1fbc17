/** The run's counts: frames sent per encoding, replies by outcome, closes by code, events. */

export class Tally {
  readonly framesByEncoding = { json: 0, msgpack: 0 };
  readonly repliesByOutcome: Record<string, number> = {};
  readonly closesByCode: Record<string, number> = {};
  events = 0;
  reconnects = 0;
  fillerPings = 0;
  streaks = 0;
  interleaved = 0;

  frameSent(binary: boolean): void {
    if (binary) this.framesByEncoding.msgpack++;
    else this.framesByEncoding.json++;
  }

  reply(outcome: string): void {
    this.repliesByOutcome[outcome] = (this.repliesByOutcome[outcome] ?? 0) + 1;
  }

  close(code: number): void {
    this.closesByCode[String(code)] = (this.closesByCode[String(code)] ?? 0) + 1;
  }

  get frames(): number {
    return this.framesByEncoding.json + this.framesByEncoding.msgpack;
  }

  get internalReplies(): number {
    return this.repliesByOutcome['internal'] ?? 0;
  }
}
