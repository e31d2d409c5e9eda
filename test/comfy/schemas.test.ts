import { describe, expect, it } from 'vitest';
import { describeValidation } from '../../src/comfy/errors.js';
import { parseObjectInfo, readInputSpec } from '../../src/comfy/object-info.js';
import {
  FeaturesSchema,
  HistorySchema,
  PromptAcceptedSchema,
  PromptRejectedSchema,
  QueueSchema,
  SystemStatsSchema,
  UploadedFileSchema,
} from '../../src/comfy/schemas.js';
import { recording } from './fixtures/recordings.js';

interface Recorded {
  readonly status: number;
  readonly body: unknown;
}

const invalid = recording<Record<string, Recorded>>('invalid_prompts');
const gets = recording<Record<string, Recorded>>('misc_gets');

describe('the HTTP schemas', () => {
  it('read every 400 answer to POST /prompt the real server gave', () => {
    const rejections = Object.entries(invalid).filter(([key, value]) => !key.startsWith('_') && value.status === 400);
    expect(rejections.length).toBeGreaterThanOrEqual(10);
    for (const [, { body }] of rejections) expect(PromptRejectedSchema.safeParse(body).success).toBe(true);
  });

  it('keep the failing node, its errors and the outputs it takes down', () => {
    const body = PromptRejectedSchema.parse(invalid['missing_required_input']!.body);
    expect(body.error).toMatchObject({ type: 'prompt_outputs_failed_validation' });
    expect(body.node_errors['1']).toMatchObject({
      class_type: 'EmptyImage',
      dependent_outputs: ['3', '4'],
      errors: [{ type: 'required_input_missing', message: 'Required input is missing', details: 'width' }],
    });
  });

  it('read a 200 that still lists node errors (the invalid outputs were dropped)', () => {
    for (const key of ['bad_linked_input', 'partially_valid_prompt']) {
      const body = PromptAcceptedSchema.parse(invalid[key]!.body);
      expect(Object.keys(body.node_errors).length).toBe(1);
    }
    const partial = PromptAcceptedSchema.parse(invalid['partially_valid_prompt']!.body);
    expect(partial.node_errors['1']!.dependent_outputs).toEqual(['5', '3', '4']);
  });

  it('read the plain 200 answer', () => {
    const body = PromptAcceptedSchema.parse(recording<Recorded>('post_prompt_ok').body);
    expect(body).toMatchObject({ number: 0, node_errors: {} });
    expect(body.prompt_id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('accept the shapes older servers used: a bare error string and node_errors as a list', () => {
    expect(PromptRejectedSchema.parse({ error: 'no prompt', node_errors: [] })).toEqual({
      error: { type: '', message: 'no prompt', details: undefined },
      node_errors: {},
    });
    expect(PromptAcceptedSchema.parse({ prompt_id: 'x' })).toEqual({ prompt_id: 'x', node_errors: {} });
  });

  it('read history entries of a success, a cached run, an error and an interrupt', () => {
    for (const body of [
      recording<Recorded>('history_basic').body,
      recording<Recorded>('history_cached').body,
      recording<{ history: unknown }>('execution_error').history,
      recording<{ history: unknown }>('interrupt_global').history,
    ]) {
      expect(HistorySchema.safeParse(body).success).toBe(true);
    }
    const basic = HistorySchema.parse(recording<Recorded>('history_basic').body);
    const entry = basic['243d6ab9-f81d-4a04-a5f7-0ba1521f0c5b']!;
    expect(entry.status).toMatchObject({ status_str: 'success', completed: true });
    expect(Object.keys(entry.outputs).sort()).toEqual(['3', '4']);
  });

  it('read an unknown prompt in history as an empty object', () => {
    expect(HistorySchema.parse(gets['/history/does-not-exist']!.body)).toEqual({});
  });

  it('read history entries of servers without status', () => {
    const parsed = HistorySchema.parse({ a: { prompt: [0, 'a', {}, {}, ['9']], outputs: { 9: { images: [] } } } });
    expect(parsed['a']!.status).toBeUndefined();
  });

  it('read the queue, features, system stats and object info', () => {
    expect(QueueSchema.parse(gets['/queue']!.body)).toEqual({ queue_running: [], queue_pending: [] });
    const running = recording<{ queue_while_running: { queue_running_item_0_1_3_4: unknown[] } }>('interrupt_global');
    const [number, id, extra, outputs] = running.queue_while_running.queue_running_item_0_1_3_4;
    const queue = QueueSchema.parse({ queue_running: [[number, id, {}, extra, outputs]], queue_pending: [] });
    expect(queue.queue_running[0]!.slice(0, 2)).toEqual([4, '425a1d78-f16f-4f5f-a4e1-37d5c11dc9a1']);
    expect(FeaturesSchema.parse(gets['/features']!.body)).toEqual({
      supports_preview_metadata: true,
      max_upload_size: 104857600,
    });
    expect(SystemStatsSchema.parse(gets['/system_stats']!.body).system.comfyui_version).toBe('0.3.64');
    const reading = parseObjectInfo(gets['/object_info/SaveImage']!.body);
    const saveImage = reading.ok ? reading.info.nodes.get('SaveImage') : undefined;
    expect(saveImage?.outputNode).toBe(true);
    expect(readInputSpec(saveImage?.required.get('images'))).toEqual({ kind: 'link', type: 'IMAGE' });
  });

  it('read every upload answer', () => {
    const uploads = recording<Record<string, Recorded>>('upload_image');
    expect(UploadedFileSchema.parse(uploads['subfolder']!.body)).toEqual({
      name: 'probe_sub.png',
      subfolder: 'probe_dir',
      type: 'input',
    });
    expect(UploadedFileSchema.parse(uploads['different_same_name']!.body).name).toBe('probe_upload (1).png');
  });
});

describe('describeValidation', () => {
  it('names the first failing node, its type and the problem', () => {
    const body = PromptRejectedSchema.parse(invalid['value_bigger_than_max']!.body);
    expect(describeValidation('Prompt outputs failed validation', body.node_errors)).toBe(
      'The image server rejected the workflow: node 1 (EmptyImage): Value 999999 bigger than max of 16384: width.',
    );
  });

  it("falls back to ComfyUI's message when no node is named", () => {
    const body = PromptRejectedSchema.parse(invalid['unknown_class_type']!.body);
    expect(describeValidation(body.error!.message, body.node_errors)).toBe(
      'The image server rejected the workflow: Cannot execute because node NoSuchNode does not exist..',
    );
  });
});
