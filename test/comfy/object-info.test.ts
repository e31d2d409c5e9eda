import { describe, expect, it } from 'vitest';
import { declaredInputs, parseObjectInfo, readInputSpec } from '../../src/comfy/object-info.js';
import { listModels } from '../../src/workflows/object-info.js';
import {
  DYNAMIC_NODE,
  IMPACT_STYLE_SWITCH,
  readObjectInfo,
  recordedObjectInfo,
  RGTHREE_ANY_SWITCH,
  V3_NODE,
  VHS_VIDEO_COMBINE,
} from './fixtures/node-info.js';

describe('reading the whole /object_info of a real ComfyUI 0.3.64', () => {
  const body = recordedObjectInfo();
  const info = readObjectInfo(body);

  it('reads all 478 node types, including the 103 whose display_name is null', () => {
    expect(Object.keys(body)).toHaveLength(478);
    expect(Object.values(body).filter((entry) => entry['display_name'] === null)).toHaveLength(103);
    expect(info.nodes.size).toBe(478);
    expect(info.unreadable.size).toBe(0);
  });

  it('understands every declared input of every node type', () => {
    const unread = [...info.nodes].flatMap(([classType, node]) =>
      declaredInputs(node)
        .filter((input) => readInputSpec(node.required.get(input) ?? node.optional.get(input)) === undefined)
        .map((input) => `${classType}.${input}`),
    );
    expect(unread).toEqual([]);
  });

  it('reads old list combos, V3 combos, numbers with 2^64 - 1 limits, wildcards and comma-joined types', () => {
    const spec = (classType: string, input: string) => {
      const node = info.nodes.get(classType)!;
      return readInputSpec(node.required.get(input) ?? node.optional.get(input));
    };
    expect(spec('KSampler', 'sampler_name')).toMatchObject({ kind: 'combo', checked: true, multiselect: false });
    expect(spec('UpscaleModelLoader', 'model_name')).toEqual({
      kind: 'combo',
      options: [],
      multiselect: false,
      checked: true,
    });
    // JSON's 18446744073709551615 arrives as the float 2^64; a seed limit compares fine with it.
    expect(spec('KSampler', 'seed')).toEqual({ kind: 'number', type: 'INT', min: 0, max: 2 ** 64 });
    const linkTypes = [...info.nodes].flatMap(([classType, node]) =>
      declaredInputs(node).map((input) => ({ input: `${classType}.${input}`, spec: spec(classType, input) })),
    );
    const ofType = (type: string) =>
      linkTypes.filter((entry) => entry.spec?.kind === 'link' && entry.spec.type === type);
    expect(ofType('*')).toHaveLength(1);
    expect(ofType('MODEL_TASK_ID,RIG_TASK_ID,RETARGET_TASK_ID')).toHaveLength(1);
    expect(info.nodes.get('SaveImage')).toMatchObject({ outputNode: true, pythonModule: 'nodes' });
  });

  it('lists the model files the recorded server has', () => {
    expect(listModels(info)).toMatchObject({
      checkpoints: ['random_sd15_slim.safetensors'],
      loras: [],
      upscaleModels: [],
    });
  });
});

describe('reading /object_info in shapes other servers send', () => {
  it('reads a body where strings became null and unknown keys appeared', () => {
    const body = recordedObjectInfo();
    for (const entry of Object.values(body)) {
      Object.assign(entry, { display_name: null, description: null, category: null, search_aliases: null });
      Object.assign(entry, { essentials_category: null, dev_only: false, price_badge: null, some_future_key: [1] });
      (entry['input'] as Record<string, unknown>)['hidden'] = { unique_id: ['UNIQUE_ID'] };
    }
    const info = readObjectInfo(body);
    expect(info.nodes.size).toBe(478);
    expect(info.unreadable.size).toBe(0);
  });

  it('reads V3, dynamic-input and custom node pack entries, and skips only the garbage ones, saying why', () => {
    const body: Record<string, unknown> = {
      ...recordedObjectInfo(),
      ImageScaleToTotalPixels: V3_NODE,
      ImageBatchDynamic: DYNAMIC_NODE,
      VHS_VideoCombine: VHS_VIDEO_COMBINE,
      'Any Switch (rgthree)': RGTHREE_ANY_SWITCH,
      ImpactSwitch: IMPACT_STYLE_SWITCH,
      BrokenNumber: 5,
      BrokenInput: { input: 5 },
      BrokenRequired: { input: { required: ['images'] }, output: [] },
      BrokenOutput: { input: { required: {} }, output: 'IMAGE' },
    };
    const info = readObjectInfo(body);
    expect(info.nodes.size).toBe(478 + 4);
    expect(Object.fromEntries(info.unreadable)).toEqual({
      BrokenNumber: 'the entry is a number',
      BrokenInput: 'input is a number, not an object',
      BrokenRequired: 'input.required is a list, not an object',
      BrokenOutput: 'output is a string, not a list',
    });
    expect(readInputSpec(info.nodes.get('ImageScaleToTotalPixels')!.required.get('upscale_method'))).toEqual({
      kind: 'combo',
      options: ['nearest-exact', 'bilinear', 'area', 'bicubic', 'lanczos'],
      multiselect: false,
      checked: true,
    });
    const dynamic = info.nodes.get('ImageBatchDynamic')!;
    expect(readInputSpec(dynamic.required.get('images'))).toEqual({ kind: 'dynamic', type: 'COMFY_AUTOGROW_V3' });
    expect(readInputSpec(dynamic.required.get('mode'))).toEqual({ kind: 'dynamic', type: 'COMFY_DYNAMICCOMBO_V3' });
    expect(readInputSpec(dynamic.required.get('tags'))).toMatchObject({ kind: 'combo', multiselect: true });
    expect(readInputSpec(dynamic.required.get('model'))).toMatchObject({ kind: 'combo', checked: false });
    const impact = info.nodes.get('ImpactSwitch')!;
    expect(readInputSpec(impact.optional.get('input1'))).toEqual({ kind: 'link', type: 'any' });
    expect(readInputSpec(impact.optional.get('mask_or_image'))).toEqual({ kind: 'link', type: 'IMAGE,MASK' });
    expect(readInputSpec(impact.optional.get('strength'))).toEqual({ kind: 'number', type: 'FLOAT' });
    expect(info.nodes.get('VHS_VideoCombine')).toMatchObject({
      outputNode: true,
      pythonModule: 'custom_nodes.ComfyUI-VideoHelperSuite',
    });
  });

  it('reads bare type strings and combos whose choices are not plain values without checking them', () => {
    expect(readInputSpec('IMAGE')).toEqual({ kind: 'link', type: 'IMAGE' });
    expect(readInputSpec([[{ name: 'a' }, 'b'], {}])).toMatchObject({ kind: 'combo', checked: false });
    expect(readInputSpec(['COMBO', { remote_combo: { route: '/x' }, options: ['a'] }])).toMatchObject({
      checked: false,
    });
    expect(readInputSpec([5])).toBeUndefined();
    expect(readInputSpec({})).toBeUndefined();
  });

  it('finds a body that is not an object of node types unusable', () => {
    expect(parseObjectInfo([1, 2])).toEqual({ ok: false, problem: 'its body is a list, not an object of node types' });
    expect(parseObjectInfo(null)).toEqual({ ok: false, problem: 'its body is null, not an object of node types' });
  });
});
