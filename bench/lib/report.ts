/**
 * What a benchmark hands back (its headline figures with the targets we hold ourselves to, plus details for the
 * JSON record), the table printed at the end of a run, and the JSON files under `bench/results/`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** How a figure is compared with its target. */
export type Comparison = '<' | '<=' | '>=' | '>';

/** A bound a figure should meet. */
export interface Target {
  readonly op: Comparison;
  readonly value: number;
}

/** One headline number of a benchmark. */
export interface Figure {
  readonly label: string;
  readonly value: number;
  readonly unit: string;
  readonly target?: Target;
}

/** The outcome of one benchmark. */
export interface BenchResult {
  readonly name: string;
  readonly title: string;
  readonly figures: readonly Figure[];
  /** Everything else worth keeping: per-run numbers, settings, samples. */
  readonly details: Record<string, unknown>;
  /**
   * What went wrong in the system measured (jobs lost, a failover that never came), each in one line. The figures
   * are still reported, but `npm run bench` says so and exits 1: a figure must not hide a failure.
   */
  readonly failures?: readonly string[];
}

/** True / false when the figure has a target, undefined when it is for information only. */
export function meetsTarget(figure: Figure): boolean | undefined {
  const { target, value } = figure;
  if (!target || Number.isNaN(value)) return target ? false : undefined;
  switch (target.op) {
    case '<':
      return value < target.value;
    case '<=':
      return value <= target.value;
    case '>=':
      return value >= target.value;
    case '>':
      return value > target.value;
  }
}

/** A plain-text table of every figure of every result. */
export function formatTable(results: readonly BenchResult[]): string {
  const header = ['benchmark', 'figure', 'value', 'target', 'met'];
  const rows = results.flatMap((result) =>
    result.figures.map((figure) => {
      const met = meetsTarget(figure);
      return [
        result.name,
        figure.label,
        `${formatNumber(figure.value)} ${figure.unit}`.trim(),
        figure.target ? `${figure.target.op} ${formatNumber(figure.target.value)} ${figure.unit}`.trim() : '',
        met === undefined ? '' : met ? 'yes' : 'NO',
      ];
    }),
  );
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: readonly string[]) => cells.map((cell, column) => cell.padEnd(widths[column]!)).join('  ');
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

/** Writes `<dir>/<name>-<date>.json` and returns its path. */
export async function writeResult(result: BenchResult, dir: string, options: Record<string, unknown>, at: Date) {
  await mkdir(dir, { recursive: true });
  const stamp = at
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replaceAll(':', '-');
  const file = path.join(dir, `${result.name}-${stamp}.json`);
  const record = {
    name: result.name,
    title: result.title,
    date: at.toISOString(),
    machine: { node: process.version, platform: process.platform, cpus: os.cpus().length, memory: os.totalmem() },
    options,
    figures: result.figures.map((figure) => ({ ...figure, met: meetsTarget(figure) })),
    failures: result.failures ?? [],
    details: result.details,
  };
  await writeFile(file, `${JSON.stringify(record, null, 2)}\n`);
  return file;
}

/** Three significant digits, without exponent noise: 0.123, 12.3, 1234. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 100) return String(Math.round(value));
  return String(Number(value.toPrecision(3)));
}
