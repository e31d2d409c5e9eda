import { describe, expect, it } from 'vitest';
import { parseObjectInfo, type ObjectInfo } from '../../src/comfy/object-info.js';
import { catalogueOf } from '../../src/workflows/model-catalogue.js';
import { resolveModelName } from '../../src/workflows/model-names.js';
import {
  fileSpellingsOf,
  portableName,
  respellFiles,
  sameFile,
  spellingIn,
} from '../../src/workflows/file-spellings.js';
import { hasNeededModels } from '../../src/workflows/workflow-models.js';
import { validateWorkflow } from '../../src/workflows/validate.js';
import { buildReady, inlineSource, node } from './helpers.js';

// What a ComfyUI server on Windows lists: its model folders' files with backslashes.
const WINDOWS_CHECKPOINTS = ['v1-5-pruned-emaonly.safetensors', 'SDXL\\juggernautXL_v9.safetensors'];
const LINUX_CHECKPOINTS = ['v1-5-pruned-emaonly.safetensors', 'SDXL/juggernautXL_v9.safetensors'];

function objectInfo(checkpoints: readonly string[], loras: readonly string[]): ObjectInfo {
  const reading = parseObjectInfo({
    CheckpointLoaderSimple: {
      input: { required: { ckpt_name: [checkpoints] } },
      output: ['MODEL', 'CLIP', 'VAE'],
      output_node: false,
    },
    LoraLoader: {
      input: {
        required: {
          model: ['MODEL'],
          clip: ['CLIP'],
          lora_name: [loras],
          strength_model: ['FLOAT', { min: -100, max: 100 }],
          strength_clip: ['FLOAT', { min: -100, max: 100 }],
        },
      },
      output: ['MODEL', 'CLIP'],
      output_node: false,
    },
    CLIPTextEncode: { input: { required: { text: ['STRING'], clip: ['CLIP'] } }, output: ['CONDITIONING'] },
  });
  if (!reading.ok) throw new Error(reading.problem);
  return reading.info;
}

describe('one file spelled by a Windows and a Linux server', () => {
  it('is the same file under its portable name, with forward slashes and its case kept', () => {
    expect(portableName('SDXL\\juggernautXL_v9.safetensors')).toBe('SDXL/juggernautXL_v9.safetensors');
    expect(sameFile('SDXL\\a.safetensors', 'SDXL/a.safetensors')).toBe(true);
    expect(sameFile('SDXL/A.safetensors', 'SDXL/a.safetensors')).toBe(false);
    expect(spellingIn(WINDOWS_CHECKPOINTS, 'SDXL/juggernautXL_v9.safetensors')).toBe(WINDOWS_CHECKPOINTS[1]);
    expect(spellingIn(LINUX_CHECKPOINTS, 'SDXL\\juggernautXL_v9.safetensors')).toBe(LINUX_CHECKPOINTS[1]);
    expect(spellingIn(LINUX_CHECKPOINTS, 'SDXL/other.safetensors')).toBeUndefined();
  });

  it('resolves what a member typed to one file, never to an ambiguity between two spellings', () => {
    const both = [...WINDOWS_CHECKPOINTS, ...LINUX_CHECKPOINTS];
    expect(resolveModelName('juggernautXL_v9', both)).toEqual({ ok: true, name: 'SDXL\\juggernautXL_v9.safetensors' });
    expect(resolveModelName('sdxl/juggernautxl_v9.safetensors', both)).toMatchObject({ ok: true });
    expect(resolveModelName('SDXL\\juggernautXL_v9.safetensors', LINUX_CHECKPOINTS)).toEqual({
      ok: true,
      name: 'SDXL/juggernautXL_v9.safetensors',
    });
  });

  it('is offered once, under its portable name, when both kinds of server list it', () => {
    const workflow = buildReady(
      inlineSource('txt2img', {
        '4': node('CheckpointLoaderSimple', { ckpt_name: 'v1-5-pruned-emaonly.safetensors' }),
        '6': node('CLIPTextEncode', { text: 'a fox', clip: ['4', 1] }),
      }),
    );
    const server = (checkpoints: readonly string[]) => ({
      workflows: new Set(['txt2img']),
      choices: new Map([['txt2img', { checkpoints }]]),
    });
    const catalogue = catalogueOf(() => [server(WINDOWS_CHECKPOINTS), server(LINUX_CHECKPOINTS)]);
    expect(catalogue.choices(workflow, 'checkpoints')).toEqual([
      'v1-5-pruned-emaonly.safetensors',
      'SDXL/juggernautXL_v9.safetensors',
    ]);
  });

  it('counts as present on a server that spells it the other way', () => {
    const needed = { checkpoint: 'SDXL/juggernautXL_v9.safetensors', loras: ['styles/ink.safetensors'] };
    expect(hasNeededModels({ checkpoints: WINDOWS_CHECKPOINTS, loras: ['styles\\ink.safetensors'] }, needed)).toBe(
      true,
    );
    expect(hasNeededModels({ checkpoints: ['v1-5-pruned-emaonly.safetensors'] }, needed)).toBe(false);
  });

  it('lets a workflow exported on Windows validate on a Linux server', () => {
    const workflow = buildReady(
      inlineSource('windows-made', {
        '4': node('CheckpointLoaderSimple', { ckpt_name: 'SDXL\\juggernautXL_v9.safetensors' }),
        '6': node('CLIPTextEncode', { text: 'a fox', clip: ['4', 1] }),
      }),
    );
    const problems = validateWorkflow(workflow, objectInfo(LINUX_CHECKPOINTS, []), 'linux').problems;
    expect(problems.filter((problem) => problem.includes('juggernaut'))).toEqual([]);
  });

  it('is sent to each server in the spelling that server listed, in combo inputs only', () => {
    const graph = {
      '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'SDXL/juggernautXL_v9.safetensors' } },
      '10': {
        class_type: 'LoraLoader',
        inputs: { lora_name: 'styles/ink.safetensors', model: ['4', 0], clip: ['4', 1] },
      },
      '6': { class_type: 'CLIPTextEncode', inputs: { text: 'SDXL/juggernautXL_v9.safetensors', clip: ['10', 1] } },
    };
    const windows = fileSpellingsOf(objectInfo(WINDOWS_CHECKPOINTS, ['styles\\ink.safetensors']));
    const sent = respellFiles(graph, windows);
    expect(sent['4']!.inputs['ckpt_name']).toBe('SDXL\\juggernautXL_v9.safetensors');
    expect(sent['10']!.inputs['lora_name']).toBe('styles\\ink.safetensors');
    // A prompt that happens to read like a path is text, not a file.
    expect(sent['6']!.inputs['text']).toBe('SDXL/juggernautXL_v9.safetensors');
    expect(graph['4'].inputs.ckpt_name).toBe('SDXL/juggernautXL_v9.safetensors');
    const linux = fileSpellingsOf(objectInfo(LINUX_CHECKPOINTS, ['styles/ink.safetensors']));
    expect(respellFiles(sent, linux)['4']!.inputs['ckpt_name']).toBe('SDXL/juggernautXL_v9.safetensors');
    expect(respellFiles(graph, linux)).toBe(graph);
  });
});
