import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { seedVideoGraph } from '../fixtures/video-workflow.js';
import { startRig, type Rig } from './harness.js';
import { buttonLabels, galleryOf, imagine, textsOf, waitForResult, waitForUpload } from './helpers.js';

let rig: Rig;
let workflowsDir: string;

beforeAll(async () => {
  // The seed workflow ending in VideoHelperSuite's Video Combine (a GIF) and core's Preview Any (a text).
  workflowsDir = await mkdtemp(path.join(tmpdir(), 'comfycord-e2e-vhs-'));
  await writeFile(path.join(workflowsDir, 'clip.json'), JSON.stringify(await seedVideoGraph('clip')));
  rig = await startRig({ env: { WORKFLOWS_DIR: workflowsDir } });
});

afterEach(() => {
  rig.discord.assertNoUnhandledCalls();
});

afterAll(async () => {
  await rig?.close();
  await rm(workflowsDir, { recursive: true, force: true });
});

describe('a workflow ending in custom output nodes, end to end', () => {
  it("posts VideoHelperSuite's GIF as image/gif and shows the text node's text, and no server path", async () => {
    const handle = await imagine(rig, { prompt: 'a running fox --steps 2 --n 2' });
    const final = await waitForResult(handle);
    const upload = await waitForUpload(rig, handle);
    expect(upload.files.map((file) => [path.extname(file.filename), file.contentType])).toEqual([
      ['.gif', 'image/gif'],
    ]);
    const written = await readFile(path.join(rig.emulator.dataDir, 'output', upload.files[0]!.filename));
    expect(upload.files[0]!.data.equals(written)).toBe(true);
    expect(textsOf(final)).toContain('**Text**\n<latent object>');
    // The GIF plays in the card's gallery.
    expect(galleryOf(final)).toEqual([`attachment://${final.attachments[0]!.filename}`]);
    // An animation cannot be varied or upscaled from.
    expect(buttonLabels(final)).toEqual(['Reroll', 'Edit', 'Refine in thread', 'Delete']);
    const everything = JSON.stringify(rig.discord.calls.map((call) => call.body));
    expect(everything).not.toContain(rig.emulator.dataDir);
    expect(everything).not.toContain('fullpath');
  });
});
