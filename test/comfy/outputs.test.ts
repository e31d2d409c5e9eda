import { describe, expect, it } from 'vitest';
import { OutputCollector, filesOfNodeOutput, mimeTypeOf } from '../../src/comfy/outputs.js';
import type { NodeOutput } from '../../src/comfy/schemas.js';
import { recording } from './fixtures/recordings.js';

const outputs = recording<{ history_outputs: Record<string, NodeOutput> }>('animated_video_outputs').history_outputs;

describe('filesOfNodeOutput', () => {
  it('tells images, animations and videos apart in the outputs of core nodes', () => {
    const files = Object.entries(outputs).flatMap(([node, output]) => filesOfNodeOutput(node, output));
    const summary = Object.fromEntries(
      files.map((file) => [file.filename, [file.kind, file.mimeType, file.subfolder]]),
    );
    expect(summary).toEqual({
      'anim_00001_.webp': ['animated', 'image/webp', ''],
      'apng_00001_.png': ['animated', 'image/png', ''],
      'probe_00001_.mp4': ['video', 'video/mp4', 'video'],
      'two_00001_.png': ['image', 'image/png', 'batch'],
      'two_00002_.png': ['image', 'image/png', 'batch'],
      'webm_00001_.webm': ['video', 'video/webm', ''],
    });
  });

  it('skips outputs that are not files, such as text', () => {
    expect(filesOfNodeOutput('8', outputs['8']!)).toEqual([]);
  });

  it("reads VideoHelperSuite's gifs", () => {
    const output = { gifs: [{ filename: 'vhs_00001.mp4', subfolder: '', type: 'output', format: 'video/h264-mp4' }] };
    expect(filesOfNodeOutput('12', output)).toEqual([
      { node: '12', filename: 'vhs_00001.mp4', subfolder: '', type: 'output', kind: 'video', mimeType: 'video/mp4' },
    ]);
  });

  it('knows the MIME types /view sends and falls back to octet-stream', () => {
    expect(mimeTypeOf('a.PNG')).toBe('image/png');
    expect(mimeTypeOf('a.webm')).toBe('video/webm');
    expect(mimeTypeOf('a.safetensors')).toBe('application/octet-stream');
  });
});

describe('OutputCollector', () => {
  it('lists each file once even when a node is recorded twice or two nodes list the same file', () => {
    const collector = new OutputCollector();
    const image = { images: [{ filename: 'x.png', subfolder: '', type: 'output' }] };
    expect(collector.add('9', image)).toBe(true);
    expect(collector.add('9', image)).toBe(false);
    collector.add('10', image);
    expect(collector.files()).toHaveLength(1);
  });
});
