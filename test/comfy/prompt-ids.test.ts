import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isPostablePromptId, newPromptId } from '../../src/comfy/prompt-id.js';
import { textToImage } from './fixtures/graphs.js';
import { Harness, startTestEmulator, VERSIONS } from './fixtures/harness.js';

describe('prompt ids the client makes', () => {
  it('are canonical lowercase UUIDs, the only form current ComfyUI accepts', () => {
    for (let index = 0; index < 50; index += 1) expect(isPostablePromptId(newPromptId())).toBe(true);
    for (const other of ['8E3B3A1C-6F2D-4B8E-9C1A-2D3E4F5A6B7C', '8e3b3a1c6f2d4b8e9c1a2d3e4f5a6b7c', 'job-1', '']) {
      expect(isPostablePromptId(other)).toBe(false);
    }
  });
});

describe.each(VERSIONS)('prompt ids against ComfyUI %s', (version) => {
  let harness: Harness;

  beforeEach(async () => {
    harness = new Harness(await startTestEmulator(version));
  });

  afterEach(async () => {
    await harness.close();
  });

  it('submits under the id it was given, or under a fresh canonical UUID', async () => {
    const client = harness.client();
    const ours = newPromptId();
    expect((await client.submit(textToImage(), { promptId: ours })).promptId).toBe(ours);
    const minted = await client.submit(textToImage({ seed: 5 }));
    expect(isPostablePromptId(minted.promptId)).toBe(true);
    expect(harness.emu.received.map((prompt) => prompt.promptId)).toEqual([ours, minted.promptId]);
  });

  it('refuses to post an id of another shape, before anything reaches the server', async () => {
    const client = harness.client();
    await expect(client.submit(textToImage(), { promptId: 'comfycord-job-1' })).rejects.toThrow(
      /not a canonical lowercase UUID/,
    );
    expect(harness.emu.received).toEqual([]);
    expect(client.inFlight).toBe(0);
  });

  it('reports an old-style id the server never knew as lost', async () => {
    const outcome = await harness.client().follow('comfycord-job-2').done;
    expect(outcome).toMatchObject({ status: 'failed', error: { identifier: 'comfy-lost' } });
  });
});
