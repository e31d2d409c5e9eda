import { MessageFlags } from 'discord.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CHECKPOINTS, startEmulator, type Emulator } from '../../src/emulator/index.js';
import type { FakeMessage, InteractionHandle, OptionValue } from '../fakes/discord/index.js';
import { startRig, type Rig } from './harness.js';
import { fieldsOf, imagine, waitForRecorded, waitForResult, type ReceivedNode } from './helpers.js';

// Two image servers with different files: only `rich` has the SDXL checkpoint, the long-named one and the ink LoRA.
const LONG_NAME = `sdxl/${'an-extremely-descriptive-model-name-'.repeat(3)}final-v2.safetensors`;
let plain: Emulator;
let rich: Emulator;
let rig: Rig;

beforeAll(async () => {
  plain = await startEmulator({ stepMs: 2, loras: ['detail.safetensors'] });
  rich = await startEmulator({
    stepMs: 2,
    checkpoints: [...DEFAULT_CHECKPOINTS, 'sdxl/juggernautXL_v9.safetensors', LONG_NAME],
    loras: ['detail.safetensors', 'sdxl/ink-style.safetensors'],
  });
  rig = await startRig({ env: { COMFY_URLS: `plain=${plain.url},rich=${rich.url}`, MAX_JOBS_PER_MEMBER: '8' } });
  // Both servers are checked once they answer; until then there is nothing to offer.
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
  await plain?.close();
  await rich?.close();
});

async function autocomplete(focused: string, options: Record<string, OptionValue>, name = 'imagine') {
  const handle = await rig.discord.autocomplete({
    user: rig.discord.member,
    channel: rig.discord.channel.id,
    name,
    options,
    focused,
  });
  return handle.waitForChoices();
}

function modelChoices(typed: string) {
  return autocomplete('model', { prompt: 'a fox', model: typed });
}

/** The graph a server received for a prompt, or undefined. */
function graphOn(emulator: Emulator, text: string): Record<string, ReceivedNode> | undefined {
  const entry = emulator.received.find((received) => JSON.stringify(received.prompt).includes(JSON.stringify(text)));
  return entry?.prompt as Record<string, ReceivedNode> | undefined;
}

function nodesOf(graph: Record<string, ReceivedNode>, classType: string): Array<[string, ReceivedNode]> {
  return Object.entries(graph).filter(([, node]) => node.class_type === classType);
}

async function refusal(handle: InteractionHandle): Promise<FakeMessage> {
  const followup = await handle.waitForFollowup();
  expect(followup.flags & MessageFlags.Ephemeral).toBe(MessageFlags.Ephemeral);
  return followup;
}

describe('choosing models and LoRAs', () => {
  it('autocompletes the models and LoRAs the servers list, filtered by what was typed', async () => {
    expect(await modelChoices('jugg')).toEqual([
      { name: 'sdxl/juggernautXL_v9.safetensors', value: 'sdxl/juggernautXL_v9.safetensors' },
    ]);
    const all = await modelChoices('');
    expect(all.map((choice) => choice.value)).toContain('v1-5-pruned-emaonly.safetensors');
    expect(all.length).toBeLessThanOrEqual(25);
    const [long] = await modelChoices('extremely');
    expect(LONG_NAME.length).toBeGreaterThan(100);
    expect(String(long!.name).length).toBeLessThanOrEqual(100);
    expect(String(long!.value).length).toBeLessThanOrEqual(100);
    expect(await autocomplete('lora', { prompt: 'a fox', lora: 'ink:0.6' })).toEqual([
      { name: 'sdxl/ink-style.safetensors (weight 0.6)', value: 'sdxl/ink-style.safetensors:0.6' },
    ]);
  });

  it('offers no model for a workflow that takes no model choice', async () => {
    expect(await autocomplete('model', { prompt: 'a fox', workflow: 'animated', model: '' })).toEqual([]);
  });

  it('runs --model and --lora on the one server that has the files, with the LoRAs chained into the graph', async () => {
    const prompt = 'a lighthouse at dusk';
    const handle = await imagine(rig, {
      prompt: `${prompt} --model juggernautXL_v9 --lora ink-style:0.6 --lora detail`,
    });
    const result = await waitForResult(handle);
    expect(graphOn(plain, prompt)).toBeUndefined();
    const graph = graphOn(rich, prompt)!;
    const [[checkpointId, checkpoint]] = nodesOf(graph, 'CheckpointLoaderSimple') as [[string, ReceivedNode]];
    expect(checkpoint.inputs['ckpt_name']).toBe('sdxl/juggernautXL_v9.safetensors');
    const loras = nodesOf(graph, 'LoraLoader');
    expect(loras.map(([, node]) => [node.inputs['lora_name'], node.inputs['strength_model']])).toEqual([
      ['sdxl/ink-style.safetensors', 0.6],
      ['detail.safetensors', 1],
    ]);
    const [[firstId, first], [lastId, last]] = loras as [[string, ReceivedNode], [string, ReceivedNode]];
    expect(first.inputs['model']).toEqual([checkpointId, 0]);
    expect(last.inputs['model']).toEqual([firstId, 0]);
    const [[, sampler]] = nodesOf(graph, 'KSampler') as [[string, ReceivedNode]];
    expect(sampler.inputs['model']).toEqual([lastId, 0]);
    for (const [, encoder] of nodesOf(graph, 'CLIPTextEncode')) expect(encoder.inputs['clip']).toEqual([lastId, 1]);
    expect(fieldsOf(result)).toMatchObject({
      Model: 'juggernautXL_v9.safetensors',
      LoRAs: 'ink-style.safetensors 0.6, detail.safetensors 1',
    });
  });

  it('takes the options too, a long name through its autocomplete value', async () => {
    const [long] = await modelChoices('extremely');
    const prompt = 'a quiet harbour';
    const result = await waitForResult(await imagine(rig, { prompt, model: long!.value, lora: 'detail:0.3' }));
    const graph = graphOn(rich, prompt)!;
    expect(nodesOf(graph, 'CheckpointLoaderSimple')[0]![1].inputs['ckpt_name']).toBe(LONG_NAME);
    expect(nodesOf(graph, 'LoraLoader')[0]![1].inputs['strength_clip']).toBe(0.3);
    expect(fieldsOf(result)['LoRAs']).toBe('detail.safetensors 0.3');
  });

  it('refuses an unknown name with the closest ones, and a weight out of range, each in one sentence', async () => {
    const typo = await refusal(await imagine(rig, { prompt: 'a fox --model jugernaut' }));
    expect(typo.content).toBe(
      'There is no model called “jugernaut” for txt2img; the closest is juggernautXL_v9.safetensors.',
    );
    const far = await refusal(await imagine(rig, { prompt: 'a fox --lora qqqqqqqq' }));
    expect(far.content).toBe(
      'There is no LoRA called “qqqqqqqq” for txt2img; start typing in the lora option to see the ones there are.',
    );
    const strong = await refusal(await imagine(rig, { prompt: 'a fox --lora detail:7' }));
    expect(strong.content).toBe('The weight 7 of the LoRA detail.safetensors is outside -2 to 2; try one such as 0.8.');
  });

  it('keeps a default model from /settings and uses it where the workflow can', async () => {
    const settings = await rig.discord.sendSlashCommand({
      user: rig.discord.member,
      channel: rig.discord.channel.id,
      name: 'settings',
      options: { model: 'JUGGERNAUTXL_V9' },
    });
    const saved = await settings.waitForOriginal((message) => message.content !== '');
    expect(saved.content).toBe('Saved. Your defaults for /imagine:\n• model: sdxl/juggernautXL_v9.safetensors');
    const prompt = 'a lantern in fog';
    const result = await waitForResult(await imagine(rig, { prompt }));
    expect(nodesOf(graphOn(rich, prompt)!, 'CheckpointLoaderSimple')[0]![1].inputs['ckpt_name']).toBe(
      'sdxl/juggernautXL_v9.safetensors',
    );
    expect(fieldsOf(result)['Your defaults']).toBe('model sdxl/juggernautXL_v9.safetensors');
    const cleared = await rig.discord.sendSlashCommand({
      user: rig.discord.member,
      channel: rig.discord.channel.id,
      name: 'settings',
      options: { model: 'none' },
    });
    expect((await cleared.waitForOriginal((message) => message.content !== '')).content).toBe(
      "Saved. You have no defaults; /imagine uses each workflow's own.",
    );
  });

  it('adds the LoRAs of a reply to those of the picture it refines; the same name changes the weight, :0 takes it out', async () => {
    const first = await waitForResult(await imagine(rig, { prompt: 'a paper crane --lora detail:0.4' }));
    await waitForRecorded(rig, first);
    const second = await refine(first, 'a paper boat --lora ink-style:0.6');
    expect(lorasSent('a paper boat')).toEqual([
      ['detail.safetensors', 0.4],
      ['sdxl/ink-style.safetensors', 0.6],
    ]);
    expect(fieldsOf(second)['LoRAs']).toBe('detail.safetensors 0.4, ink-style.safetensors 0.6');
    await refine(second, 'a paper plane --lora detail.safetensors:0.9 --lora "sdxl/ink-style":0');
    expect(lorasSent('a paper plane')).toEqual([['detail.safetensors', 0.9]]);
  });
});

/** The member replies to a result; resolves with the bot's new result, once recorded in the session. */
async function refine(result: FakeMessage, content: string): Promise<FakeMessage> {
  const reply = await rig.discord.postMessage({
    user: rig.discord.member,
    channel: rig.discord.channel,
    content,
    replyTo: result,
  });
  const answer = await rig.discord.waitForMessage(
    (message) =>
      message.authorId === rig.discord.botUser.id &&
      message.reference?.messageId === reply.id &&
      message.attachments.length > 0,
    20_000,
  );
  await waitForRecorded(rig, answer);
  return answer;
}

/** The LoRAs (name, weight) the server that ran a prompt was sent. */
function lorasSent(prompt: string): Array<[unknown, unknown]> {
  const graph = graphOn(rich, prompt) ?? graphOn(plain, prompt)!;
  return nodesOf(graph, 'LoraLoader').map(([, node]) => [node.inputs['lora_name'], node.inputs['strength_model']]);
}
