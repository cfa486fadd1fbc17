/**
 * Latency recorder on an HDR histogram: microsecond resolution, three significant
 * digits, so the tail percentiles are exact to 0.1 % rather than bucketed guesses.
 */
import { build, type Histogram } from 'hdr-histogram-js';

/** Percentiles the reports print and chart. */
export const REPORT_PERCENTILES = [50, 75, 90, 95, 99, 99.9, 99.99, 100] as const;

export interface LatencySummary {
  count: number;
  mean_ms: number;
  max_ms: number;
  /** percentile → milliseconds */
  percentiles: Record<string, number>;
  /** (latency ms, fraction of samples at or below it), for the CDF chart */
  cdf: Array<[number, number]>;
}

export class LatencyHistogram {
  private readonly histogram: Histogram = build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 120_000_000,
    numberOfSignificantValueDigits: 3,
  });

  /** Records one latency given in (fractional) milliseconds. */
  record(ms: number): void {
    this.histogram.recordValue(Math.max(1, Math.round(ms * 1000)));
  }

  /** Adds every sample of another histogram (phases recorded apart, reported together). */
  merge(other: LatencyHistogram): void {
    this.histogram.add(other.histogram);
  }

  get count(): number {
    return this.histogram.totalCount;
  }

  /** Milliseconds at percentile p (0–100); 0 when nothing was recorded. */
  at(p: number): number {
    return this.count === 0 ? 0 : this.histogram.getValueAtPercentile(p) / 1000;
  }

  summary(): LatencySummary {
    const percentiles: Record<string, number> = {};
    for (const p of REPORT_PERCENTILES) percentiles[String(p)] = this.at(p);
    return {
      count: this.count,
      mean_ms: this.count === 0 ? 0 : this.histogram.mean / 1000,
      max_ms: this.count === 0 ? 0 : this.histogram.maxValue / 1000,
      percentiles,
      cdf: this.cdf(),
    };
  }

  /** Every whole percent, then points ever denser toward the tail (99 %, …, 99.999 %), where a latency CDF says the most. */
  private cdf(): Array<[number, number]> {
    if (this.count === 0) return [];
    const percents: number[] = [];
    for (let p = 0; p < 99; p++) percents.push(p);
    for (let k = 40; k <= 100; k += 2) percents.push(100 * (1 - Math.pow(10, -k / 20)));
    const points: Array<[number, number]> = percents.map((p) => [this.at(p), p / 100]);
    points.push([this.at(100), 1]);
    return points;
  }
}
