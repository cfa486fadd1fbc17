/**
 * The report's charts: vega-lite specs compiled to vega, rendered headless to SVG
 * (renderer 'none'), rasterised to PNG by resvg with the system fonts.
 */
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { BenchResult } from './result.ts';

export interface Chart {
  file: string;
  title: string;
  png: Buffer;
}

const WIDTH = 640;
const HEIGHT = 260;
const ACK_COLOR = '#1f77b4';
const DELIVER_COLOR = '#ff7f0e';

/** What "acked" means per scenario, for axis and legend labels. */
export function requestLabel(scenario: string): string {
  if (scenario === 'idle') return 'connections';
  if (scenario === 'history') return 'pages';
  return 'acked';
}

export async function renderCharts(result: BenchResult): Promise<Chart[]> {
  const label = requestLabel(result.summary.scenario);
  const specs: Array<[string, string, TopLevelSpec]> = [
    ['throughput.png', 'Throughput over time', throughputSpec(result, label)],
    ['latency-percentiles.png', 'Latency percentiles', percentileSpec(result, label)],
    ['latency-cdf.png', 'Latency CDF', cdfSpec(result, label)],
  ];
  const charts: Chart[] = [];
  for (const [file, title, spec] of specs) charts.push({ file, title, png: await renderPng(spec) });
  return charts;
}

export async function renderPng(spec: TopLevelSpec): Promise<Buffer> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  const resvg = new Resvg(svg, {
    background: 'white',
    fitTo: { mode: 'zoom', value: 2 },
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
  });
  return resvg.render().asPng();
}

function throughputSpec(result: BenchResult, label: string): TopLevelSpec {
  const rates = result.timeline.flatMap((p) => [
    { t: p.t_s, series: `${label}/s`, value: p.acked },
    ...(p.delivered > 0 ? [{ t: p.t_s, series: 'delivered/s', value: p.delivered }] : []),
    ...(p.errors > 0 ? [{ t: p.t_s, series: 'errors/s', value: p.errors }] : []),
  ]);
  const server = result.timeline.filter((p) => p.server_cpu_cores !== null).map((p) => ({ t: p.t_s, cores: p.server_cpu_cores, rss: p.server_rss_mb }));
  const slowest = result.timeline.filter((p) => p.max_ack_ms !== null && p.max_ack_ms !== undefined).map((p) => ({ t: p.t_s, ms: p.max_ack_ms }));
  const ceiling = result.summary.ceiling_per_s;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `${result.summary.scenario}: throughput per second`,
    vconcat: [
      {
        width: WIDTH,
        height: HEIGHT,
        layer: [
          {
            data: { values: rates },
            mark: { type: 'line', point: true },
            encoding: {
              x: { field: 't', type: 'quantitative', title: 'second of the measured phase', axis: { format: 'd', tickMinStep: 1 } },
              y: { field: 'value', type: 'quantitative', title: 'per second' },
              color: { field: 'series', type: 'nominal', title: null, scale: { range: [ACK_COLOR, DELIVER_COLOR, '#d62728'] } },
            },
          },
          ...(ceiling === null
            ? []
            : [
                {
                  data: { values: [{ y: ceiling, text: `PostgreSQL ceiling ${Math.round(ceiling)}/s` }] },
                  layer: [
                    { mark: { type: 'rule' as const, strokeDash: [6, 4], color: '#2ca02c' }, encoding: { y: { field: 'y', type: 'quantitative' as const } } },
                    {
                      mark: { type: 'text' as const, align: 'left' as const, dx: 4, dy: -6, color: '#2ca02c' },
                      encoding: { y: { field: 'y', type: 'quantitative' as const }, x: { value: 0 }, text: { field: 'text', type: 'nominal' as const } },
                    },
                  ],
                },
              ]),
        ],
      },
      {
        width: WIDTH,
        height: 120,
        data: { values: server },
        mark: { type: 'area', opacity: 0.5, color: '#9467bd', line: true },
        encoding: {
          x: { field: 't', type: 'quantitative', title: 'second of the measured phase', axis: { format: 'd', tickMinStep: 1 } },
          y: { field: 'cores', type: 'quantitative', title: 'server CPU (cores)' },
        },
      },
      // The slowest ack of each second: a tail in every second is queueing, in a few is stalls.
      ...(slowest.length === 0
        ? []
        : [
            {
              width: WIDTH,
              height: 120,
              data: { values: slowest },
              mark: { type: 'bar' as const, color: ACK_COLOR, opacity: 0.7, size: 12 },
              encoding: {
                x: { field: 't', type: 'quantitative' as const, title: 'second of the measured phase', axis: { format: 'd', tickMinStep: 1 } },
                y: { field: 'ms', type: 'quantitative' as const, title: 'slowest ack (ms)' },
              },
            },
          ]),
    ],
  };
}

function percentileSpec(result: BenchResult, label: string): TopLevelSpec {
  const rows = [
    ...Object.entries(result.latency.ack.percentiles).map(([p, ms]) => ({ p: `p${p}`, order: Number(p), series: label, ms })),
    ...(result.latency.deliver.count === 0
      ? []
      : Object.entries(result.latency.deliver.percentiles).map(([p, ms]) => ({ p: `p${p}`, order: Number(p), series: 'delivered', ms }))),
  ].map((r) => ({ ...r, ms: Math.max(r.ms, 0.001), p: r.p === 'p100' ? 'max' : r.p }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `${result.summary.scenario}: latency by percentile (ms, log scale)`,
    width: WIDTH,
    height: HEIGHT,
    data: { values: rows },
    layer: [
      {
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'p', type: 'ordinal', sort: { field: 'order' }, title: 'percentile', axis: { labelAngle: 0 } },
          y: { field: 'ms', type: 'quantitative', scale: { type: 'log' }, title: 'latency (ms)' },
          color: { field: 'series', type: 'nominal', title: null, scale: { range: [ACK_COLOR, DELIVER_COLOR] }, legend: { orient: 'top-left' } },
        },
      },
      // Delivery usually lies above the ack: its values go above it, the ack's below, so close lines do not overprint.
      ...[
        { series: label, dy: 16 },
        { series: 'delivered', dy: -10 },
      ].map(({ series, dy }) => ({
        transform: [{ filter: { field: 'series', equal: series } }],
        mark: { type: 'text' as const, dy, fontSize: 10 },
        encoding: {
          x: { field: 'p', type: 'ordinal' as const, sort: { field: 'order' } },
          y: { field: 'ms', type: 'quantitative' as const, scale: { type: 'log' as const } },
          text: { field: 'ms', type: 'quantitative' as const, format: '.3~r' },
          color: { field: 'series', type: 'nominal' as const },
        },
      })),
    ],
  };
}

function cdfSpec(result: BenchResult, label: string): TopLevelSpec {
  const rows = [
    ...result.latency.ack.cdf.map(([ms, fraction]) => ({ ms: Math.max(ms, 0.001), fraction, series: label })),
    ...result.latency.deliver.cdf.map(([ms, fraction]) => ({ ms: Math.max(ms, 0.001), fraction, series: 'delivered' })),
  ];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `${result.summary.scenario}: latency CDF`,
    width: WIDTH,
    height: HEIGHT,
    data: { values: rows },
    mark: { type: 'line', interpolate: 'monotone' },
    encoding: {
      x: { field: 'ms', type: 'quantitative', scale: { type: 'log' }, title: 'latency (ms, log scale)' },
      y: { field: 'fraction', type: 'quantitative', title: 'fraction of requests at or below', scale: { domain: [0, 1] } },
      color: { field: 'series', type: 'nominal', title: null, scale: { range: [ACK_COLOR, DELIVER_COLOR] } },
    },
  };
}
