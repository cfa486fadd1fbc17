/**
 * The fuzzer's progress on stderr: a bar on a terminal; elsewhere (CI logs, a
 * run in the background) one line every 30 s, so a long run shows it is alive.
 * --no-progress turns both off.
 */
import cliProgress from 'cli-progress';

const LINE_EVERY_MS = 30_000;

export interface FuzzFigures {
  frames: number;
  perS: number;
  violations: number;
  internal: number;
  pairAcked: number;
}

export class FuzzProgress {
  private bar: cliProgress.SingleBar | null = null;
  private total = 0;
  private lastLine = 0;

  constructor(private readonly enabled: boolean) {}

  start(total: number): void {
    this.total = total;
    this.lastLine = Date.now();
    if (!this.enabled || !process.stderr.isTTY) return;
    this.bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        format: 'fuzz |{bar}| {value}/{total} frames | {perS}/s | violations {violations} | internal {internal} | pair acked {pairAcked} | {eta_formatted}',
        hideCursor: true,
        clearOnComplete: false,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(total, 0, { perS: 0, violations: 0, internal: 0, pairAcked: 0 });
  }

  update(figures: FuzzFigures): void {
    if (this.enabled && this.bar === null && Date.now() - this.lastLine >= LINE_EVERY_MS) {
      this.lastLine = Date.now();
      process.stderr.write(`fuzz: ${figures.frames}/${this.total} frames, ${Math.round(figures.perS)}/s, violations ${figures.violations}, internal ${figures.internal}, pair acked ${figures.pairAcked}\n`);
    }
    this.bar?.update(figures.frames, { perS: Math.round(figures.perS), violations: figures.violations, internal: figures.internal, pairAcked: figures.pairAcked });
  }

  stop(): void {
    this.bar?.stop();
    this.bar = null;
  }
}
