import { describe, expect, it } from 'vitest';
import { ProgressPrinter } from '../../src/cli/generate/progress.js';
import { ComfyJob, type JobEvent } from '../../src/comfy/index.js';
import { TextSink } from './helpers.js';

/** A real job handle with its delivery function, as the client creates it. */
function openJob() {
  return ComfyJob.open({
    server: 'gpu-1',
    promptId: 'p-1',
    warnings: () => ({}),
    cancel: async () => undefined,
    snapshot: () => ({ phase: 'submitted' }),
    onListenerError: (error) => {
      throw error;
    },
  });
}

function printerFor(interactive: boolean) {
  const sink = new TextSink();
  let clock = 1_000;
  const printer = new ProgressPrinter(
    sink,
    interactive,
    (id) => `node ${id} (KSampler)`,
    () => (clock += 500),
  );
  return { sink, printer };
}

const steps = (max: number): JobEvent[] =>
  Array.from({ length: max }, (_, index) => ({ type: 'progress', value: index + 1, max, node: '3' }) as const);

describe('ProgressPrinter', () => {
  it('prints the queue position, the start and one line per tenth of the way when not on a terminal', () => {
    const { sink, printer } = printerFor(false);
    const { job, deliver } = openJob();
    printer.follow(job);
    for (const event of [{ type: 'queued', position: 2 }, { type: 'started' }, ...steps(20)] as JobEvent[])
      deliver(event);
    printer.close();
    const lines = sink.text.split('\n').filter(Boolean);
    expect(lines.slice(0, 2)).toEqual(['Queued on gpu-1 at position 2.', 'Running on gpu-1.']);
    expect(lines.slice(2)).toHaveLength(11);
    expect(lines[2]).toBe('Progress: 5% (1/20) node 3 (KSampler), 0.5 s');
    expect(lines.at(-1)).toMatch(/^Progress: 100% \(20\/20\) node 3 \(KSampler\), \d+\.\d s$/);
    expect(sink.text).not.toContain('\r');
  });

  it('rewrites a single line on a terminal and ends it before the next message', () => {
    const { sink, printer } = printerFor(true);
    const { job, deliver } = openJob();
    printer.follow(job);
    for (const event of [{ type: 'started' }, ...steps(4)] as JobEvent[]) deliver(event);
    printer.line('Wrote out/a.png');
    expect(sink.text.split('\r\u001b[2K')).toHaveLength(5);
    expect(sink.text).toContain('\r\u001b[2K[######..................] 25% (1/4) node 3 (KSampler)');
    expect(sink.text).toContain('[########################] 100% (4/4)');
    expect(sink.text.endsWith(', 2.0 s\nWrote out/a.png\n')).toBe(true);
  });

  it('names the files an output node produced', () => {
    const { sink, printer } = printerFor(false);
    const { job, deliver } = openJob();
    printer.follow(job);
    const file = {
      node: '9',
      filename: 'a.png',
      subfolder: '',
      type: 'output',
      kind: 'image',
      mimeType: 'image/png',
    } as const;
    deliver({ type: 'output', node: '9', output: {}, files: [file, { ...file, filename: 'b.png' }] });
    expect(sink.text).toBe('node 9 (KSampler) produced 2 files.\n');
  });
});
