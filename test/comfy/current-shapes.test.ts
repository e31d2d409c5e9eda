/**
 * The client reads what current ComfyUI sends (PROTOCOL-current.md §2–§6) as well as what 0.3.64 sent: new validation
 * error types, output items with extra keys, null where 0.3.64 sent an object, new fields and message types. Bodies
 * are the recorded 0.3.64 ones with the documented changes applied, or the document's own examples.
 */
import { describe, expect, it } from 'vitest';
import { summariseNodeErrors } from '../../src/cli/generate/failure.js';
import { describeValidation } from '../../src/comfy/errors.js';
import { filesOfNodeOutput } from '../../src/comfy/outputs.js';
import {
  FeaturesSchema,
  HistorySchema,
  PromptAcceptedSchema,
  PromptRejectedSchema,
  SystemStatsSchema,
  UploadedFileSchema,
} from '../../src/comfy/schemas.js';
import { parseComfyMessage } from '../../src/comfy/ws-messages.js';
import { recording } from './fixtures/recordings.js';

interface Recorded {
  readonly status: number;
  readonly body: unknown;
}

const PROMPT_ID = '243d6ab9-f81d-4a04-a5f7-0ba1521f0c5b';

describe('validation errors of current ComfyUI', () => {
  it('reads missing_node_type, with its extra_info, and gives its message as the sentence', () => {
    const body = PromptRejectedSchema.parse({
      error: {
        type: 'missing_node_type',
        message: "Node 'NoSuchNode' not found. The custom node may not be installed.",
        details: "Node ID '#2'",
        extra_info: { node_id: '2', class_type: 'NoSuchNode', node_title: 'NoSuchNode' },
      },
      node_errors: {},
    });
    expect(body.error).toMatchObject({ type: 'missing_node_type' });
    expect(describeValidation(body.error!.message, body.node_errors)).toBe(
      "The image server rejected the workflow: Node 'NoSuchNode' not found. The custom node may not be installed..",
    );
  });

  it('reads dependency_cycle, invalid_dynamic_input and loop errors with their extra_info', () => {
    const body = PromptRejectedSchema.parse({
      error: { type: 'prompt_outputs_failed_validation', message: 'Prompt outputs failed validation', details: '' },
      node_errors: {
        '1': {
          errors: [
            {
              type: 'dependency_cycle',
              message: 'Dependency cycle detected',
              details: '1 (A) -> 2 (B) -> 1 (A)',
              extra_info: { node_id: '1', cycle_nodes: ['1', '2'] },
            },
          ],
          dependent_outputs: ['9'],
          class_type: 'A',
        },
        '5': {
          errors: [
            {
              type: 'invalid_dynamic_input',
              message: 'Invalid dynamic input',
              details: 'images.image7',
              extra_info: { input_name: 'images.image7' },
            },
            {
              type: 'custom_validation_failed',
              message: 'Loop end without start',
              details: null,
              extra_info: {
                input_name: 'loop boundary',
                loop_error_type: 'loop_end_without_start',
                node_ids: ['5'],
                output_ids: ['9'],
              },
            },
          ],
          dependent_outputs: ['9'],
          class_type: 'LoopEnd',
        },
      },
    });
    expect(body.node_errors['5']!.errors.map((error) => error.type)).toEqual([
      'invalid_dynamic_input',
      'custom_validation_failed',
    ]);
    expect(body.node_errors['5']!.errors[1]!.details).toBe('');
    // A member reads what is wrong in their terms (validation-text.ts); ComfyUI's wording stays in the log.
    expect(describeValidation(body.error!.message, body.node_errors)).toBe(
      "The workflow's nodes are linked in a circle (1 (A) -> 2 (B) -> 1 (A)): a node cannot depend on its own result.",
    );
    expect(summariseNodeErrors(body.node_errors)).toBe(
      'node 1 (A): Dependency cycle detected: 1 (A) -> 2 (B) -> 1 (A); ' +
        'node 5 (LoopEnd): Invalid dynamic input: images.image7, Loop end without start',
    );
  });

  it('reads the invalid_prompt_id refusal', () => {
    const body = PromptRejectedSchema.parse({
      error: {
        type: 'invalid_prompt_id',
        message: 'prompt_id must be a valid UUID',
        details: 'prompt_id must be a UUID string in canonical lowercase hyphenated form',
        extra_info: {},
      },
      node_errors: {},
    });
    expect(body.error).toMatchObject({ type: 'invalid_prompt_id', message: 'prompt_id must be a valid UUID' });
  });

  it('reads an accepted prompt whose number is null and node_errors of an unknown shape', () => {
    expect(PromptAcceptedSchema.parse({ prompt_id: PROMPT_ID, number: null, node_errors: 'none' })).toEqual({
      prompt_id: PROMPT_ID,
      number: undefined,
      node_errors: {},
    });
  });
});

describe('history, frames and system bodies of current ComfyUI', () => {
  it('reads a history entry whose items carry id, preview_id and metadata, and whose status is null', () => {
    const recorded = recording<Recorded>('history_basic').body as Record<string, Record<string, unknown>>;
    const entry = recorded[PROMPT_ID]!;
    const outputs = entry['outputs'] as Record<string, { images: Record<string, unknown>[] }>;
    Object.assign(outputs['3']!.images[0]!, {
      id: 'b8a1e5b2-4c8e-4e0e-9a57-5a0c8f1d2e3f',
      preview_id: 'b8a1e5b2-4c8e-4e0e-9a57-5a0c8f1d2e3f',
      metadata: { width: 64, height: 48, format: 'png' },
    });
    const history = HistorySchema.parse({ [PROMPT_ID]: { ...entry, status: null, outputs: { ...outputs, 7: null } } });
    const parsed = history[PROMPT_ID]!;
    expect(parsed.status).toBeUndefined();
    expect(parsed.outputs['7']).toEqual({});
    expect(filesOfNodeOutput('3', parsed.outputs['3']!)).toMatchObject([
      { node: '3', filename: 'probe_00001_.png', subfolder: '', type: 'output' },
    ]);
  });

  it('keeps a history entry whose status messages hold an entry of another shape', () => {
    const history = HistorySchema.parse({
      a: { outputs: {}, status: { status_str: 'success', completed: true, messages: [['execution_start', {}], 5] } },
    });
    expect(history['a']!.status?.messages).toEqual([['execution_start', {}]]);
  });

  it('reads executed frames with extra item keys or a null output, and ignores new message types', () => {
    const executed = parseComfyMessage(
      JSON.stringify({
        type: 'executed',
        data: {
          node: '9',
          display_node: '9',
          output: { images: [{ filename: 'a.png', subfolder: '', type: 'output', id: 'x', preview_id: 'x' }] },
          prompt_id: PROMPT_ID,
        },
      }),
    );
    expect(executed.ok && executed.message.type === 'executed' && executed.message.data.output).toMatchObject({
      images: [{ filename: 'a.png', id: 'x' }],
    });
    const cached = parseComfyMessage(
      JSON.stringify({ type: 'executed', data: { node: '9', output: null, prompt_id: PROMPT_ID } }),
    );
    expect(cached.ok && cached.message.type === 'executed' && cached.message.data.output).toEqual({});
    const error = parseComfyMessage(
      JSON.stringify({ type: 'execution_error', data: { prompt_id: PROMPT_ID, traceback: null, node_type: null } }),
    );
    expect(error.ok && error.message.type === 'execution_error' && error.message.data).toMatchObject({
      traceback: [],
      node_type: 'unknown',
    });
    expect(parseComfyMessage(JSON.stringify({ type: 'assets.seed.completed', data: { total: 3 } }))).toEqual({
      ok: false,
      reason: 'unknown-type',
      type: 'assets.seed.completed',
    });
  });

  it('reads system stats, features and uploads with the fields current servers add, or null ones', () => {
    const gets = recording<Record<string, Recorded>>('misc_gets');
    const stats = structuredClone(gets['/system_stats']!.body) as {
      system: Record<string, unknown>;
      devices: Record<string, unknown>[];
    };
    stats.system['comfy_package_versions'] = [{ name: 'comfyui-frontend-package', installed: null, required: '1.2.3' }];
    stats.system['deploy_environment'] = 'local-git';
    stats.system['python_version'] = null;
    stats.devices.push({ ...stats.devices[0]!, name: 'cuda:1', vram_total: null });
    const parsed = SystemStatsSchema.parse(stats);
    expect(parsed.system.comfyui_version).toBe('0.3.64');
    expect(parsed.system.python_version).toBeUndefined();
    expect(parsed.devices).toHaveLength(2);
    expect(
      FeaturesSchema.parse({
        supports_preview_metadata: true,
        supports_model_type_tags: true,
        max_upload_size: 104857600,
        extension: { manager: { supports_v4: true } },
        node_replacements: true,
        assets: false,
      }),
    ).toMatchObject({ supports_preview_metadata: true, max_upload_size: 104857600 });
    expect(
      UploadedFileSchema.parse({
        name: 'x.png',
        subfolder: '',
        type: 'input',
        asset: { id: 'u', name: 'x.png', asset_hash: null, size: 123, mime_type: 'image/png', tags: ['input'] },
      }),
    ).toMatchObject({ name: 'x.png', subfolder: '', type: 'input' });
  });
});
