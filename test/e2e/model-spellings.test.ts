import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CHECKPOINTS, startEmulator, type Emulator } from '../../src/emulator/index.js';
import { startRig, type Rig } from './harness.js';
import { imagine, waitForResult, waitForServerHealth, type ReceivedNode } from './helpers.js';

// One model folder on two machines: ComfyUI on Windows lists its files with backslashes, on Linux with slashes, and
// each checks a graph's file names against its own list letter for letter.
let windows: Emulator;
let linux: Emulator;
let rig: Rig;

beforeAll(async () => {
  windows = await startEmulator({
    stepMs: 50,
    checkpoints: [...DEFAULT_CHECKPOINTS, 'SDXL\\juggernautXL_v9.safetensors'],
    loras: ['styles\\ink-style.safetensors'],
  });
  linux = await startEmulator({
    stepMs: 50,
    checkpoints: [...DEFAULT_CHECKPOINTS, 'SDXL/juggernautXL_v9.safetensors'],
    loras: ['styles/ink-style.safetensors'],
  });
  rig = await startRig({
    env: {
      COMFY_URLS: `windows=${windows.url},linux=${linux.url}`,
      COMFY_PROMPTS_PER_SERVER: '1',
      MAX_JOBS_PER_MEMBER: '8',
    },
  });
  await waitForServerHealth(rig, 'up');
  const deadline = Date.now() + 15_000;
  while ((await modelChoices('jugg')).length === 0) {
    if (Date.now() > deadline) throw new Error('the servers were never checked');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
});

afterEach(() => {
  rig.discord.assertNoUnhandledCalls();
});

afterAll(async () => {
  await rig?.close();
  await windows?.close();
  await linux?.close();
});

async function modelChoices(typed: string) {
  const handle = await rig.discord.autocomplete({
    user: rig.discord.member,
    channel: rig.discord.channel.id,
    name: 'imagine',
    options: { prompt: 'a fox', model: typed },
    focused: 'model',
  });
  return handle.waitForChoices();
}

function fileNamesOn(emulator: Emulator, prompt: string): unknown[] | undefined {
  const entry = emulator.received.find((received) => JSON.stringify(received.prompt).includes(JSON.stringify(prompt)));
  if (!entry) return undefined;
  const nodes = Object.values(entry.prompt as Record<string, ReceivedNode>);
  return nodes.flatMap((node) => [node.inputs['ckpt_name'], node.inputs['lora_name']].filter(Boolean));
}

/** Resolves once `found` gives something (polled; the servers record each prompt they accept). */
async function until(found: () => unknown, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (found() === undefined) {
    if (Date.now() > deadline) throw new Error('waited in vain');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('a model file listed by a Windows and a Linux ComfyUI server', () => {
  it('is offered once in autocomplete, with forward slashes', async () => {
    expect(await modelChoices('jugg')).toEqual([
      { name: 'SDXL/juggernautXL_v9.safetensors', value: 'SDXL/juggernautXL_v9.safetensors' },
    ]);
  });

  it('runs on either server, each sent the file names in its own spelling', async () => {
    const prompts = ['a lighthouse at dusk', 'a harbour at dawn'];
    const typed = ['SDXL\\juggernautXL_v9', 'juggernautXL_v9.safetensors'];
    const send = (index: number, steps: number) =>
      imagine(rig, {
        prompt: `${prompts[index]} --model ${typed[index]} --steps ${steps}`,
        lora: 'styles/ink-style.safetensors:0.5',
      });
    // The first holds its server (one prompt each) while the second is dispatched: it can only go to the other.
    const first = await send(0, 60);
    await until(() => fileNamesOn(windows, prompts[0]!) ?? fileNamesOn(linux, prompts[0]!));
    const second = await send(1, 2);
    await Promise.all([waitForResult(first, 60_000), waitForResult(second, 60_000)]);
    const sent = prompts.map((prompt) => ({
      windows: fileNamesOn(windows, prompt),
      linux: fileNamesOn(linux, prompt),
    }));
    expect(sent.filter((each) => each.windows !== undefined)).toHaveLength(1);
    expect(sent.filter((each) => each.linux !== undefined)).toHaveLength(1);
    for (const each of sent) {
      if (each.windows) {
        expect(each.windows).toEqual(['SDXL\\juggernautXL_v9.safetensors', 'styles\\ink-style.safetensors']);
      }
      if (each.linux) expect(each.linux).toEqual(['SDXL/juggernautXL_v9.safetensors', 'styles/ink-style.safetensors']);
    }
  });
});
