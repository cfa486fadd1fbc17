/** The fuzzer's progress bar on stderr (off when stderr is not a terminal, or with --no-progress). */
import cliProgress from 'cli-progress';

export interface FuzzFigures {
  frames: number;
  perS: number;
  violations: number;
  internal: number;
  pairAcked: number;
}

export class FuzzProgress {
  private bar: cliProgress.SingleBar | null = null;

  constructor(private readonly enabled: boolean) {}

  start(total: number): void {
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
    this.bar?.update(figures.frames, { perS: Math.round(figures.perS), violations: figures.violations, internal: figures.internal, pairAcked: figures.pairAcked });
  }

  stop(): void {
    this.bar?.stop();
    this.bar = null;
  }
}
