/**
 * What the operator watches while a job runs: its place in the queue, then progress as one line updated in place on a
 * terminal, or as plain lines (at every tenth of the way) when the output is a file or a pipe.
 */
import type { ComfyJob, OutputFile } from '../../comfy/index.js';

const BAR_WIDTH = 24;

/** Writes status lines and progress to one stream. */
export class ProgressPrinter {
  #lineOpen = false;
  #lastDecile = new Map<string, number>();
  #startedAt: number | undefined;

  constructor(
    private readonly out: NodeJS.WritableStream,
    /** True on a terminal: progress rewrites one line instead of adding lines. */
    private readonly interactive: boolean,
    /** How a node is named in progress lines: `node 3 (KSampler)`. */
    private readonly describeNode: (nodeId: string) => string,
    private readonly now: () => number = Date.now,
  ) {}

  /** Prints one full line, ending a progress line first. */
  line(text: string): void {
    this.#closeLine();
    this.out.write(`${text}\n`);
  }

  /** Follows a job's queue position and progress until it ends. */
  follow(job: ComfyJob): void {
    job.on('queued', (event) => this.line(`Queued on ${job.server} at position ${event.position}.`));
    job.on('started', () => {
      this.#startedAt = this.now();
      this.line(`Running on ${job.server}.`);
    });
    job.on('progress', (event) => this.#progress(event.value, event.max, event.node));
    job.on('output', (event) => {
      if (event.files.length > 0) this.line(`${this.describeNode(event.node)} produced ${countFiles(event.files)}.`);
    });
  }

  /** Ends a progress line left open. */
  close(): void {
    this.#closeLine();
  }

  #progress(value: number, max: number, node: string | null): void {
    const fraction = max > 0 ? Math.min(1, Math.max(0, value / max)) : 0;
    const percent = Math.round(fraction * 100);
    const where = node === null ? '' : ` ${this.describeNode(node)}`;
    const elapsed = this.#startedAt === undefined ? '' : `, ${((this.now() - this.#startedAt) / 1000).toFixed(1)} s`;
    const text = `${percent}% (${value}/${max})${where}${elapsed}`;
    if (this.interactive) {
      const filled = Math.round(fraction * BAR_WIDTH);
      this.out.write(`\r\u001b[2K[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${text}`);
      this.#lineOpen = true;
      return;
    }
    const key = node ?? '';
    const decile = Math.floor(fraction * 10);
    if (this.#lastDecile.get(key) === decile) return;
    this.#lastDecile.set(key, decile);
    this.out.write(`Progress: ${text}\n`);
  }

  #closeLine(): void {
    if (!this.#lineOpen) return;
    this.out.write('\n');
    this.#lineOpen = false;
  }
}

/** `1 file`, `2 files`, `1 text`, `3 files and 1 text`. */
function countFiles(files: readonly OutputFile[]): string {
  const count = (n: number, what: string) => (n === 1 ? `1 ${what}` : `${n} ${what}s`);
  const texts = files.filter((file) => file.kind === 'text').length;
  const saved = files.length - texts;
  const parts = [saved > 0 ? count(saved, 'file') : '', texts > 0 ? count(texts, 'text') : ''];
  return parts.filter(Boolean).join(' and ');
}
