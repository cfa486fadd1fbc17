/**
 * Logs a recurring problem at most once per interval, with how many times it
 * happened since the last line: an inbox flooded with garbage must not turn into
 * a log flood, and the count still says how bad it was.
 */
import type { Logger } from 'pino';

export class LogThrottle {
  private lastAt = -Infinity;
  private suppressed = 0;

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs = 1000,
  ) {}

  warn(fields: Record<string, unknown>, message: string): void {
    const now = performance.now();
    if (now - this.lastAt < this.intervalMs) {
      this.suppressed++;
      return;
    }
    this.logger.warn({ ...fields, suppressedSinceLastLog: this.suppressed }, message);
    this.lastAt = now;
    this.suppressed = 0;
  }
}
