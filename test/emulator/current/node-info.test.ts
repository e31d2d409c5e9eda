/**
 * Node info in the emulator's `current` mode, derived from the 0.3.64 entries as PROTOCOL-current.md §5 lays out;
 * `/features` and `/system_stats` with current's additions (§4, §6).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../../src/emulator/index.js';
import { currentNodeInfoText } from '../../../src/emulator/versions/current-node-info.js';

/** The current entry of a 0.3.64 entry, as a plain value. */
const currentNodeInfo = (info: unknown): Record<string, unknown> =>
  JSON.parse(currentNodeInfoText(JSON.stringify(info))) as Record<string, unknown>;
import { getJson } from '../http.js';

/** Entries of `comfyui/recorded/object_info_full.json` (a real 0.3.64), copied whole. */
const RECORDED: Record<string, Record<string, unknown>> = {
  ImageScaleToTotalPixels: {
    input: {
      required: {
        image: ['IMAGE', {}],
        upscale_method: [
          'COMBO',
          { multiselect: false, options: ['nearest-exact', 'bilinear', 'area', 'bicubic', 'lanczos'] },
        ],
        megapixels: ['FLOAT', { default: 1.0, min: 0.01, max: 16.0, step: 0.01 }],
      },
    },
    input_order: { required: ['image', 'upscale_method', 'megapixels'] },
    output: ['IMAGE'],
    output_is_list: [false],
    output_name: ['IMAGE'],
    output_tooltips: [null],
    name: 'ImageScaleToTotalPixels',
    display_name: null,
    description: '',
    python_module: 'comfy_extras.nodes_post_processing',
    category: 'image/upscaling',
    output_node: false,
    deprecated: false,
    experimental: false,
    api_node: false,
  },
  SaveImage: {
    input: {
      required: {
        images: ['IMAGE', { tooltip: 'The images to save.' }],
        filename_prefix: [
          'STRING',
          {
            default: 'ComfyUI',
            tooltip:
              'The prefix for the file to save. This may include formatting information such as %date:yyyy-MM-dd% or %Empty Latent Image.width% to include values from nodes.',
          },
        ],
      },
      hidden: { prompt: 'PROMPT', extra_pnginfo: 'EXTRA_PNGINFO' },
    },
    input_order: { required: ['images', 'filename_prefix'], hidden: ['prompt', 'extra_pnginfo'] },
    output: [],
    output_is_list: [],
    output_name: [],
    name: 'SaveImage',
    display_name: 'Save Image',
    description: 'Saves the input images to your ComfyUI output directory.',
    python_module: 'nodes',
    category: 'image',
    output_node: true,
  },
  PreviewImage: {
    input: { required: { images: ['IMAGE'] }, hidden: { prompt: 'PROMPT', extra_pnginfo: 'EXTRA_PNGINFO' } },
    input_order: { required: ['images'], hidden: ['prompt', 'extra_pnginfo'] },
    output: [],
    output_is_list: [],
    output_name: [],
    name: 'PreviewImage',
    display_name: 'Preview Image',
    description: 'Saves the input images to your ComfyUI output directory.',
    python_module: 'nodes',
    category: 'image',
    output_node: true,
  },
  EmptyLatentImage: {
    input: {
      required: {
        width: [
          'INT',
          { default: 512, min: 16, max: 16384, step: 8, tooltip: 'The width of the latent images in pixels.' },
        ],
        height: [
          'INT',
          { default: 512, min: 16, max: 16384, step: 8, tooltip: 'The height of the latent images in pixels.' },
        ],
        batch_size: ['INT', { default: 1, min: 1, max: 4096, tooltip: 'The number of latent images in the batch.' }],
      },
    },
    input_order: { required: ['width', 'height', 'batch_size'] },
    output: ['LATENT'],
    output_is_list: [false],
    output_name: ['LATENT'],
    name: 'EmptyLatentImage',
    display_name: 'Empty Latent Image',
    description: 'Create a new batch of empty latent images to be denoised via sampling.',
    python_module: 'nodes',
    category: 'latent',
    output_node: false,
    output_tooltips: ['The empty latent image batch.'],
  },
};

describe('current node info derived from a 0.3.64 entry', () => {
  it('gives a V3 node every asdict key, in order, as in the documented ImageScaleToTotalPixels', () => {
    const info = currentNodeInfo(RECORDED['ImageScaleToTotalPixels']!);
    expect(Object.keys(info)).toEqual([
      'input',
      'input_order',
      'is_input_list',
      'output',
      'output_is_list',
      'output_name',
      'output_tooltips',
      'output_matchtypes',
      'name',
      'display_name',
      'description',
      'python_module',
      'category',
      'output_node',
      'deprecated',
      'experimental',
      'dev_only',
      'api_node',
      'price_badge',
      'search_aliases',
      'essentials_category',
      'has_intermediate_output',
    ]);
    expect(info).toMatchObject({
      is_input_list: false,
      output_matchtypes: null,
      display_name: null,
      dev_only: false,
      price_badge: null,
      search_aliases: null,
      essentials_category: null,
      has_intermediate_output: false,
    });
    expect(info['input']).toEqual(RECORDED['ImageScaleToTotalPixels']!['input']);
  });

  it('gives SaveImage an IMAGE output and the V1 keys, as in the documented example', () => {
    const info = currentNodeInfo(RECORDED['SaveImage']!);
    expect(Object.keys(info)).toEqual([
      'input',
      'input_order',
      'is_input_list',
      'output',
      'output_is_list',
      'output_name',
      'name',
      'display_name',
      'description',
      'python_module',
      'category',
      'output_node',
      'has_intermediate_output',
      'search_aliases',
      'essentials_category',
    ]);
    expect(info).toMatchObject({
      output: ['IMAGE'],
      output_is_list: [false],
      output_name: ['images'],
      search_aliases: ['save', 'save image', 'export image', 'output image', 'write image', 'download'],
      essentials_category: 'Basics',
    });
    expect(currentNodeInfo(RECORDED['PreviewImage']!)).toMatchObject({ output: ['IMAGE'], search_aliases: [] });
  });

  it('keeps a V1 node (even with output tooltips) otherwise as recorded, adding the always-present keys', () => {
    const recorded = RECORDED['EmptyLatentImage']!;
    const info = currentNodeInfo(recorded);
    expect(info).toEqual({ ...recorded, is_input_list: false, has_intermediate_output: false, search_aliases: [] });
  });
});

describe('the current-mode emulator informational routes', () => {
  let current: Emulator;
  let old: Emulator;

  beforeAll(async () => {
    [current, old] = await Promise.all([startEmulator({ version: 'current' }), startEmulator({})]);
  });

  afterAll(async () => {
    await Promise.all([current.close(), old.close()]);
  });

  it('serves every node through the current transformation, and 0.3.64 entries unchanged in 0.3.64 mode', async () => {
    const currentInfo = (await getJson<Record<string, Record<string, unknown>>>(current.url, '/object_info')).body;
    const oldInfo = (await getJson<Record<string, Record<string, unknown>>>(old.url, '/object_info')).body;
    expect(Object.keys(currentInfo)).toEqual(Object.keys(oldInfo));
    for (const [name, info] of Object.entries(oldInfo)) expect(currentInfo[name]).toEqual(currentNodeInfo(info));
    expect(oldInfo['SaveImage']!['output']).toEqual([]);
    const one = (await getJson(current.url, '/object_info/SaveImage')).body;
    expect(one).toEqual({ SaveImage: currentInfo['SaveImage'] });
  });

  it('answers /features with the current flags', async () => {
    expect((await getJson(current.url, '/features')).body).toEqual({
      supports_preview_metadata: true,
      supports_model_type_tags: true,
      max_upload_size: 104857600,
      extension: { manager: { supports_v4: true } },
      node_replacements: true,
      assets: true,
    });
    expect((await getJson(old.url, '/features')).body).toEqual({
      supports_preview_metadata: true,
      max_upload_size: 104857600,
    });
  });

  it('adds the package versions and deploy environment to /system_stats', async () => {
    const { system } = (await getJson<{ system: Record<string, unknown> }>(current.url, '/system_stats')).body;
    expect(system['comfyui_version']).toBe('0.38.1');
    expect(system['deploy_environment']).toBe('local-git');
    expect(system['comfy_package_versions']).toEqual([
      { name: 'comfyui-frontend-package', installed: expect.any(String), required: expect.any(String) },
    ]);
    const before = (await getJson<{ system: Record<string, unknown> }>(old.url, '/system_stats')).body.system;
    expect(before['comfyui_version']).toBe('0.3.64');
    expect(before).not.toHaveProperty('deploy_environment');
  });
});
