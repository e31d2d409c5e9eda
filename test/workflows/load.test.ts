import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { loadWorkflows } from '../../src/workflows/load.js';
import { defaultGraph } from './helpers.js';

/** A logger whose JSON lines the test can read back. */
function capturingLogger(): { logger: ReturnType<typeof createLogger>; lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const logger = createLogger({ level: 'info', format: 'json', destination });
  const lines = (): Array<Record<string, unknown>> =>
    chunks
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, lines };
}

describe('loading a workflows directory', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'comfycord-workflows-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function put(file: string, content: unknown): Promise<void> {
    await writeFile(path.join(dir, file), typeof content === 'string' ? content : JSON.stringify(content));
  }

  it('keeps loading after bad files and reports each workflow as ready or disabled', async () => {
    await put('good.json', defaultGraph());
    await put('good.manifest.json', { description: 'The good one' });
    await put('broken.json', '{ not json');
    await put('ui.json', { nodes: [], links: [], version: 0.4 });
    await put('badmanifest.json', defaultGraph());
    await put('badmanifest.manifest.json', { settings: { steps: { max: 'lots' } } });
    await put('lonely.manifest.json', { description: 'no graph' });
    await put('notes.txt', 'not a workflow');
    const { logger, lines } = capturingLogger();
    const loaded = await loadWorkflows(dir, logger);

    expect(loaded.list().map((workflow) => workflow.name)).toEqual(['good']);
    expect(loaded.get('GOOD')?.description).toBe('The good one');
    expect(loaded.get('broken')).toBeUndefined();
    expect(loaded.report.map((entry) => [entry.name, entry.status])).toEqual([
      ['badmanifest', 'disabled'],
      ['broken', 'disabled'],
      ['good', 'ready'],
      ['ui', 'disabled'],
      ['lonely', 'disabled'],
    ]);
    const reasons = Object.fromEntries(loaded.report.map((entry) => [entry.name, entry.reasons]));
    expect(reasons['badmanifest']).toEqual([
      'badmanifest.manifest.json: settings.steps.max must be a number, not the text "lots"',
    ]);
    expect(reasons['broken']?.[0]).toMatch(/^broken\.json is not valid JSON/);
    expect(reasons['ui']?.[0]).toContain('UI-format export');
    expect(reasons['lonely']).toEqual([
      'lonely.manifest.json has no workflow beside it; expected lonely.json (an API-format export).',
    ]);

    const logged = lines();
    const disabled = logged.filter((line) => line['msg'] === 'workflow disabled').map((line) => line['workflow']);
    expect(disabled).toEqual(['badmanifest', 'broken', 'ui', 'lonely']);
    expect(logged.find((line) => line['msg'] === 'workflow ready')).toMatchObject({ workflow: 'good', level: 30 });
  });

  it('disables the second workflow that claims a name already taken', async () => {
    await put('alpha.json', defaultGraph());
    await put('beta.json', defaultGraph());
    await put('beta.manifest.json', { name: 'Alpha' });
    const loaded = await loadWorkflows(dir, capturingLogger().logger);
    expect(loaded.list().map((workflow) => workflow.file)).toEqual(['alpha.json']);
    expect(loaded.report[1]).toMatchObject({
      name: 'Alpha',
      status: 'disabled',
      reasons: [
        'beta.json: the name "Alpha" is already used by alpha.json; give one of them another "name" in its manifest.',
      ],
    });
  });

  it('logs the notes of a workflow that loaded with ambiguities', async () => {
    const graph = defaultGraph();
    graph['10'] = { ...graph['3']!, inputs: { ...graph['3']!.inputs, latent_image: ['3', 0] } };
    await put('hires.json', graph);
    const { logger, lines } = capturingLogger();
    const loaded = await loadWorkflows(dir, logger);
    expect(loaded.report[0]?.status).toBe('ready');
    expect(loaded.report[0]?.notes).toHaveLength(3);
    expect(lines().find((line) => line['msg'] === 'workflow ready, with notes')?.['notes']).toEqual(
      loaded.report[0]?.notes,
    );
  });

  it('logs an error when no workflow is ready, and throws only for a directory it cannot read', async () => {
    const { logger, lines } = capturingLogger();
    expect((await loadWorkflows(dir, logger)).list()).toEqual([]);
    expect(lines()).toEqual([expect.objectContaining({ level: 50, msg: 'no workflow is ready' })]);
    await expect(loadWorkflows(path.join(dir, 'missing'), logger)).rejects.toThrow(/ENOENT/);
  });

  it('notes a fallback that names no other ready workflow', async () => {
    await put('fancy.json', defaultGraph());
    await put('fancy.manifest.json', { fallback: 'plain' });
    await put('loop.json', defaultGraph());
    await put('loop.manifest.json', { fallback: 'LOOP' });
    const loaded = await loadWorkflows(dir, capturingLogger().logger);
    expect(loaded.report.map((entry) => entry.notes)).toEqual([
      ['fancy.json: its fallback "plain" is not another ready workflow, so it has none.'],
      ['loop.json: its fallback "LOOP" is not another ready workflow, so it has none.'],
    ]);
    await put('plain.json', defaultGraph());
    expect((await loadWorkflows(dir, capturingLogger().logger)).report[0]?.notes).toEqual([]);
  });
});
