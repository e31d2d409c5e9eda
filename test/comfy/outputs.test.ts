import { describe, expect, it } from 'vitest';
import { OutputCollector, contentTypeOf, filesOfNodeOutput, mimeTypeOf } from '../../src/comfy/outputs.js';
import type { NodeOutput } from '../../src/comfy/schemas.js';
import { recording } from './fixtures/recordings.js';

const outputs = recording<{ history_outputs: Record<string, NodeOutput> }>('animated_video_outputs').history_outputs;

describe('filesOfNodeOutput', () => {
  it('tells images, animations, videos and texts apart in the outputs of core nodes', () => {
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
      'text-8-1.txt': ['text', 'text/plain', ''],
    });
  });

  it('reads the text a PreviewAny node shows as a text, not a file', () => {
    expect(filesOfNodeOutput('8', outputs['8']!)).toEqual([
      {
        node: '8',
        filename: 'text-8-1.txt',
        subfolder: '',
        type: 'text',
        kind: 'text',
        mimeType: 'text/plain',
        text: 'hello text',
      },
    ]);
  });

  it("reads VideoHelperSuite's gifs in their real shape and keeps none of the server's paths", () => {
    const output = {
      gifs: [
        {
          filename: 'AnimateDiff_00001.mp4',
          subfolder: 'clips',
          type: 'output',
          format: 'video/h264-mp4',
          frame_rate: 8,
          workflow: 'AnimateDiff_00001.png',
          fullpath: '/home/comfy/ComfyUI/output/clips/AnimateDiff_00001.mp4',
        },
      ],
    };
    const files = filesOfNodeOutput('12', output);
    expect(files).toEqual([
      {
        node: '12',
        filename: 'AnimateDiff_00001.mp4',
        subfolder: 'clips',
        type: 'output',
        kind: 'video',
        mimeType: 'video/mp4',
      },
    ]);
    expect(JSON.stringify(files)).not.toContain('/home/comfy');
  });

  it('takes the content type from a VideoHelperSuite format, else from the extension', () => {
    const gif = { filename: 'a_00001.gif', subfolder: '', type: 'temp', format: 'image/gif' };
    const prores = { filename: 'a_00002.mov', subfolder: '', type: 'output', format: 'video/ProRes' };
    const webm = { filename: 'a_00003.webm', subfolder: '', type: 'output', format: 'video/av1-webm' };
    const kinds = filesOfNodeOutput('3', { gifs: [gif, prores, webm] }).map((file) => [file.mimeType, file.kind]);
    expect(kinds).toEqual([
      ['image/gif', 'animated'],
      ['video/quicktime', 'video'],
      ['video/webm', 'video'],
    ]);
  });

  it('finds files under every key: video, audio, 3d and keys it has never seen', () => {
    const output = {
      video: [{ filename: 'clip_00001_.mp4', subfolder: 'video', type: 'output' }],
      audio: [{ filename: 'song_00001_.flac', subfolder: 'audio', type: 'output' }],
      '3d': [{ filename: 'mesh_00001_.glb', subfolder: '3d', type: 'output' }],
      results: [{ filename: 'sheet_00001_.webp', subfolder: '', type: 'output', id: 'a1b2', metadata: {} }],
      animated: [false],
      unfinished_batch: [true],
    };
    const summary = filesOfNodeOutput('5', output).map((file) => [file.filename, file.kind, file.mimeType]);
    expect(summary).toEqual([
      ['clip_00001_.mp4', 'video', 'video/mp4'],
      ['song_00001_.flac', 'audio', 'audio/flac'],
      ['mesh_00001_.glb', 'model', 'model/gltf-binary'],
      ['sheet_00001_.webp', 'image', 'image/webp'],
    ]);
  });

  it('reads a bare 3D model name as a file in the output folder, as the jobs API does', () => {
    const [file] = filesOfNodeOutput('7', { '3d': ['mesh/model_00001_.glb'] });
    expect(file).toMatchObject({ filename: 'model_00001_.glb', subfolder: 'mesh', type: 'output', kind: 'model' });
  });

  it('shows other string lists as texts, but never a path on the server', () => {
    const output = {
      string: ['a caption', '/srv/comfy/output/x.png', 'x.png'],
      text: ['C:\\ComfyUI\\output\\y.txt', 'a text that mentions /tmp/z.png is fine'],
    };
    const texts = filesOfNodeOutput('4', output).map((file) => file.text);
    expect(texts).toEqual(['a caption', 'a text that mentions /tmp/z.png is fine']);
  });

  it('moves folders in a file name into its subfolder and drops absolute file names', () => {
    const output = {
      images: [
        { filename: 'sub/a.png', subfolder: 'batch', type: 'output' },
        { filename: '/etc/passwd', subfolder: '', type: 'output' },
      ],
    };
    const files = filesOfNodeOutput('9', output).map((file) => [file.subfolder, file.filename]);
    expect(files).toEqual([['batch/sub', 'a.png']]);
  });

  it('knows the MIME types /view sends and falls back to octet-stream', () => {
    expect(mimeTypeOf('a.PNG')).toBe('image/png');
    expect(mimeTypeOf('a.webm')).toBe('video/webm');
    expect(mimeTypeOf('a.safetensors')).toBe('application/octet-stream');
  });

  it('reads formats that are MIME types, VideoHelperSuite formats and unknown ones', () => {
    expect(contentTypeOf('x.gif', 'image/gif')).toBe('image/gif');
    expect(contentTypeOf('x.mp4', 'video/nvenc_h264-mp4')).toBe('video/mp4');
    expect(contentTypeOf('x.gif', 'video/ffmpeg-gif')).toBe('image/gif');
    expect(contentTypeOf('x.png', 'video/8bit-png')).toBe('image/png');
    expect(contentTypeOf('x.bin', 'something')).toBe('application/octet-stream');
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
