import { beforeAll, describe, expect, it } from 'vitest';
import {
  firstWorkflowOfKind,
  planGeneration,
  screenRequest,
  type PlanContext,
} from '../../src/workflows/generation-plan.js';
import { silentLogger } from '../../src/logger.js';
import { loadWorkflows } from '../../src/workflows/index.js';
import { catalogueOf, type ServerModelChoices } from '../../src/workflows/model-catalogue.js';

let context: PlanContext;

beforeAll(async () => {
  context = { workflows: await loadWorkflows('workflows', silentLogger()), maxPromptLength: 100, ageRestricted: false };
});

const plain = { options: {}, defaults: {}, hasImage: false };

describe('planGeneration', () => {
  it('runs the text-to-image default with the prompt and its flags', () => {
    const plan = planGeneration({ ...plain, text: 'a red fox --ar 16:9 --seed 42' }, context);
    expect(plan).toMatchObject({
      ok: true,
      settings: { prompt: 'a red fox', aspect: '16:9', seed: 42, workflow: 'txt2img' },
    });
  });

  it('refuses a bad flag with the parser’s sentence', () => {
    expect(planGeneration({ ...plain, text: 'a fox --seed x' }, context)).toMatchObject({
      ok: false,
      identifier: 'bad-flag',
      message: expect.stringContaining('--seed must be a whole number'),
    });
  });

  it('refuses a setting given both as an option and as a flag', () => {
    const plan = planGeneration({ ...plain, text: 'a fox --seed 1', options: { seed: 2 } }, context);
    expect(plan).toMatchObject({ ok: false, message: 'You set seed both as an option and as a flag; keep one.' });
  });

  it('refuses a prompt over the limit and says the limit', () => {
    const plan = planGeneration({ ...plain, text: 'x'.repeat(101) }, context);
    expect(plan).toMatchObject({
      ok: false,
      identifier: 'prompt-too-long',
      message: 'Your prompt is 101 characters long; the limit is 100.',
    });
  });

  it('refuses an unknown workflow and lists the loaded ones', () => {
    const plan = planGeneration({ ...plain, text: 'a fox --wf nope' }, context);
    expect(plan).toMatchObject({
      ok: false,
      identifier: 'unknown-workflow',
      message: expect.stringMatching(/^There is no workflow called nope; choose one of: .*txt2img/),
    });
  });

  it('refuses a value outside the workflow’s range with the range', () => {
    const plan = planGeneration({ ...plain, text: 'a fox --steps 999' }, context);
    expect(plan).toMatchObject({ ok: false, identifier: 'bad-setting', message: expect.stringMatching(/steps/) });
  });

  it('picks image-to-image when an image comes with no workflow named', () => {
    const plan = planGeneration({ ...plain, text: 'make it winter', hasImage: true }, context);
    expect(plan).toMatchObject({ ok: true, workflow: { name: 'img2img' } });
  });

  it('applies the member’s defaults under the options and names them', () => {
    const plan = planGeneration(
      { ...plain, text: 'a fox', options: { count: 2 }, defaults: { aspect: '2:3', count: 4, negative: 'blurry' } },
      context,
    );
    expect(plan).toMatchObject({ ok: true, settings: { aspect: '2:3', count: 2, negative: 'blurry' } });
    if (plan.ok) expect(plan.defaultsApplied.sort()).toEqual(['aspect 2:3', 'negative blurry']);
  });

  it('refuses a text-to-image request without a prompt', () => {
    expect(planGeneration({ ...plain, text: '--seed 3' }, context)).toMatchObject({
      ok: false,
      message: expect.stringMatching(/prompt/),
    });
  });
});

describe('screenRequest (before the acknowledgement)', () => {
  const typed = { options: {}, hasImage: false };

  it('lets a well-formed request through without binding it', () => {
    expect(screenRequest({ ...typed, text: 'a red fox --ar 16:9 --seed 42' }, context)).toBeUndefined();
  });

  it('finds the refusals no default could change, with the same sentences as the plan', () => {
    for (const text of ['a fox --seed x', 'x'.repeat(101), 'a fox --workflow nope']) {
      const refusal = screenRequest({ ...typed, text }, context);
      const plan = planGeneration({ ...typed, text, defaults: {} }, context);
      expect(refusal).toBeDefined();
      expect(refusal).toEqual(plan);
    }
    expect(screenRequest({ ...typed, text: 'a fox --seed 1', options: { seed: 2 } }, context)).toMatchObject({
      identifier: 'setting-twice',
    });
  });

  it('leaves to the plan what depends on the workflow’s settings or a default', () => {
    // --steps 999 is out of range for txt2img; the member's default workflow could be another, so it waits.
    expect(screenRequest({ ...typed, text: 'a fox --steps 999' }, context)).toBeUndefined();
    expect(screenRequest({ ...typed, text: '--seed 3' }, context)).toBeUndefined();
  });
});

describe('adult (nsfw) workflows', () => {
  /** The repository's workflows plus `after-dark`, an adult copy of txt2img. */
  function catalog(): PlanContext['workflows'] {
    const base = context.workflows.list();
    const adult = { ...context.workflows.get('txt2img')!, name: 'after-dark', nsfw: true };
    const all = [...base, adult];
    return { list: () => all, get: (name) => all.find((workflow) => workflow.name === name) };
  }
  const typed = { options: {}, hasImage: false };
  const adultOnly =
    'The workflow after-dark is only for age-restricted channels; use it in one of those, or choose another.';

  it('refuses one named outside an age-restricted channel, before the acknowledgement too', () => {
    const here = { ...context, workflows: catalog(), ageRestricted: false };
    const text = 'a moonlit street --wf after-dark';
    expect(screenRequest({ ...typed, text }, here)).toMatchObject({
      ok: false,
      identifier: 'adult-workflow',
      message: adultOnly,
    });
    expect(planGeneration({ ...typed, text, defaults: {} }, here)).toMatchObject({ ok: false, message: adultOnly });
  });

  it('runs one named in an age-restricted channel', () => {
    const here = { ...context, workflows: catalog(), ageRestricted: true };
    const plan = planGeneration({ ...typed, text: 'a moonlit street --wf after-dark', defaults: {} }, here);
    expect(plan).toMatchObject({ ok: true, workflow: { name: 'after-dark' } });
  });

  it('never picks one by default outside an age-restricted channel, nor lists it among the choices', () => {
    const here = { ...context, workflows: catalog(), ageRestricted: false, defaultWorkflow: 'after-dark' };
    expect(planGeneration({ ...typed, text: 'a fox', defaults: {} }, here)).toMatchObject({
      ok: true,
      workflow: { name: 'txt2img' },
    });
    const unknown = planGeneration({ ...typed, text: 'a fox --wf nope', defaults: {} }, here);
    expect(unknown.ok ? '' : unknown.message).not.toContain('after-dark');
  });

  it('leaves a member’s adult default for age-restricted channels and plans as usual elsewhere', () => {
    const defaults = { workflow: 'after-dark', negative: 'blurry' };
    const elsewhere = { ...context, workflows: catalog(), ageRestricted: false };
    const plan = planGeneration({ ...typed, text: 'a fox', defaults }, elsewhere);
    expect(plan).toMatchObject({ ok: true, workflow: { name: 'txt2img' }, settings: { negative: 'blurry' } });
    if (plan.ok) expect(plan.defaultsApplied).toEqual(['negative blurry']);
    const restricted = { ...elsewhere, ageRestricted: true };
    expect(planGeneration({ ...typed, text: 'a fox', defaults }, restricted)).toMatchObject({
      ok: true,
      workflow: { name: 'after-dark' },
    });
  });

  it('is never the workflow Vary, Upscale or an image reply picks by kind outside an age-restricted channel', () => {
    // An adult image-to-image workflow listed before img2img.
    const adult = { ...context.workflows.get('img2img')!, name: 'after-dark-i2i', nsfw: true };
    const all = [adult, ...context.workflows.list()];
    const workflows = { list: () => all, get: (name: string) => all.find((workflow) => workflow.name === name) };
    expect(firstWorkflowOfKind('image-to-image', { ...context, workflows, ageRestricted: false })?.name).toBe(
      'img2img',
    );
    expect(firstWorkflowOfKind('image-to-image', { ...context, workflows, ageRestricted: true })?.name).toBe(
      'after-dark-i2i',
    );
  });
});

describe('planning with the servers’ model files', () => {
  // What two servers offer: one runs every workflow with the SD 1.5 files, the other has an SDXL model and more LoRAs.
  const servers: ServerModelChoices[] = [
    {
      workflows: new Set(['txt2img', 'sdxl', 'img2img']),
      choices: new Map([
        ['txt2img', { checkpoints: ['v1-5-pruned-emaonly.safetensors'], loras: ['detail.safetensors'] }],
        ['sdxl', { checkpoints: ['sd_xl_base_1.0.safetensors'], loras: ['detail.safetensors'] }],
      ]),
    },
    {
      workflows: new Set(['txt2img']),
      choices: new Map([
        [
          'txt2img',
          {
            checkpoints: ['v1-5-pruned-emaonly.safetensors', 'sdxl/juggernautXL_v9.safetensors'],
            loras: ['detail.safetensors', 'styles/ink.safetensors'],
          },
        ],
      ]),
    },
  ];
  const withModels = (): PlanContext => ({ ...context, models: catalogueOf(() => servers) });

  it('offers a workflow’s files from every server that runs it, and only those', () => {
    const models = catalogueOf(() => servers);
    expect(models.choices(context.workflows.get('txt2img')!, 'checkpoints')).toEqual([
      'v1-5-pruned-emaonly.safetensors',
      'sdxl/juggernautXL_v9.safetensors',
    ]);
    expect(models.choices(context.workflows.get('sdxl')!, 'loras')).toEqual(['detail.safetensors']);
    expect(catalogueOf(() => []).choices(context.workflows.get('txt2img')!, 'checkpoints')).toBeUndefined();
  });

  it('writes the names as the servers list them, options and flags together', () => {
    const plan = planGeneration(
      { ...plain, text: 'a fox --model juggernautxl_v9 --lora INK:0.5', options: { loras: [{ name: 'detail' }] } },
      withModels(),
    );
    expect(plan).toMatchObject({
      ok: true,
      settings: {
        checkpoint: 'sdxl/juggernautXL_v9.safetensors',
        loras: [{ name: 'detail.safetensors' }, { name: 'styles/ink.safetensors', weight: 0.5 }],
      },
    });
  });

  it('refuses a name no server that runs the workflow has, with the closest ones', () => {
    expect(planGeneration({ ...plain, text: 'a fox --wf sdxl --model juggernaut' }, withModels())).toMatchObject({
      ok: false,
      identifier: 'unknown-model',
      message:
        'There is no model called “juggernaut” for sdxl; start typing in the model option to see the ones there are.',
    });
    expect(planGeneration({ ...plain, text: 'a fox --lora detial' }, withModels())).toMatchObject({
      ok: false,
      message: 'There is no LoRA called “detial” for txt2img; the closest is detail.safetensors.',
    });
  });

  it('uses a member’s default model only where a server running the workflow has it', () => {
    const defaults = { checkpoint: 'juggernautXL_v9' };
    const here = planGeneration({ ...plain, text: 'a fox', defaults }, withModels());
    expect(here).toMatchObject({
      ok: true,
      settings: { checkpoint: 'sdxl/juggernautXL_v9.safetensors' },
      defaultsApplied: ['model sdxl/juggernautXL_v9.safetensors'],
    });
    const elsewhere = planGeneration({ ...plain, text: 'a fox --wf sdxl', defaults }, withModels());
    expect(elsewhere).toMatchObject({ ok: true, defaultsApplied: [] });
    expect(elsewhere.ok && elsewhere.settings.checkpoint).toBeUndefined();
  });
});
