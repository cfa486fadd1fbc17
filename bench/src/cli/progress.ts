/**
 * The live progress bar on stderr: seconds done, acks and deliveries in the last
 * second, errors. Off when stderr is not a terminal (tests, CI logs) or --no-progress.
 */
import cliProgress from 'cli-progress';

export interface LiveFigures {
  ackedPerS: number;
  deliveredPerS: number;
  errors: number;
  note: string;
}

export class Progress {
  private bar: cliProgress.SingleBar | null = null;

  constructor(private readonly enabled: boolean) {}

  start(label: string, totalSeconds: number): void {
    if (!this.enabled || !process.stderr.isTTY) return;
    this.bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        format: `${label.padEnd(9)} |{bar}| {value}/{total} s | acked {acked}/s | delivered {delivered}/s | errors {errors} {note}`,
        hideCursor: true,
        clearOnComplete: false,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(Math.ceil(totalSeconds), 0, { acked: 0, delivered: 0, errors: 0, note: '' });
  }

  update(elapsedSeconds: number, figures: LiveFigures): void {
    this.bar?.update(Math.floor(elapsedSeconds), {
      acked: Math.round(figures.ackedPerS),
      delivered: Math.round(figures.deliveredPerS),
      errors: figures.errors,
      note: figures.note,
    });
  }

  stop(): void {
    this.bar?.stop();
    this.bar = null;
  }
}

/** Progress lines for the phases around the measurement (always on stderr, short). */
export const say = (message: string): void => {
  process.stderr.write(`bench [${process.uptime().toFixed(1)} s]: ${message}\n`);
};
