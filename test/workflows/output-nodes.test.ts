import { describe, expect, it } from 'vitest';
import type { ApiGraph } from '../../src/workflows/graph.js';
import { parseObjectInfo } from '../../src/workflows/object-info.js';
import { defaultOutputs, findOutputNodes } from '../../src/workflows/output-nodes.js';
import { inferBindings } from '../../src/workflows/inference.js';

const decoded = {
  '8': { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } },
} satisfies ApiGraph;

const videoCombine = (format: string) => ({
  class_type: 'VHS_VideoCombine',
  inputs: {
    images: ['8', 0],
    frame_rate: 8,
    loop_count: 0,
    filename_prefix: 'AnimateDiff',
    format,
    pingpong: false,
    save_output: true,
  },
});

// A custom pack's nodes as a server's /object_info describes them.
const customReading = parseObjectInfo({
  VAEDecode: { input: { required: { samples: ['LATENT'], vae: ['VAE'] } }, output: ['IMAGE'], output_node: false },
  UploadToCloud: { input: { required: { images: ['IMAGE'] } }, output: [], output_node: true },
  'ShowText|pysssss': {
    input: { required: { text: ['STRING', { forceInput: true }] } },
    output: ['STRING'],
    output_node: true,
  },
  'Image Save': {
    input: { required: { images: ['IMAGE'], output_path: ['STRING', {}], filename_prefix: ['STRING', {}] } },
    output: ['IMAGE'],
    output_node: true,
  },
  SaveImage: { input: { required: { images: ['IMAGE'] } }, output: [], output_node: false },
});
if (!customReading.ok) throw new Error(customReading.problem);
const customInfo = customReading.info;

describe('finding output nodes', () => {
  it("posts VideoHelperSuite's Video Combine as video, and a GIF format as animated images", () => {
    const graph: ApiGraph = { ...decoded, '12': videoCombine('video/h264-mp4'), '13': videoCombine('image/gif') };
    expect(findOutputNodes(graph)).toEqual([
      { nodeId: '12', role: 'saves', produces: 'video' },
      { nodeId: '13', role: 'saves', produces: 'animated images' },
    ]);
  });

  it('takes a node it does not know for a saver when it has a filename_prefix input', () => {
    const graph: ApiGraph = {
      ...decoded,
      '20': { class_type: 'SaveImageToS3', inputs: { images: ['8', 0], filename_prefix: 'x' } },
    };
    expect(findOutputNodes(graph)).toEqual([{ nodeId: '20', role: 'saves', produces: 'images' }]);
  });

  it("finds custom output nodes from the server's object_info: savers, uploaders and text", () => {
    const graph: ApiGraph = {
      ...decoded,
      '20': { class_type: 'Image Save', inputs: { images: ['8', 0], output_path: '', filename_prefix: 'x' } },
      '21': { class_type: 'UploadToCloud', inputs: { images: ['8', 0] } },
      '22': { class_type: 'ShowText|pysssss', inputs: { text: ['30', 0] } },
    };
    const found = findOutputNodes(graph, customInfo);
    expect(found).toEqual([
      { nodeId: '20', role: 'saves', produces: 'images' },
      { nodeId: '21', role: 'previews', produces: 'images' },
      { nodeId: '22', role: 'text', produces: 'text' },
    ]);
    expect(defaultOutputs(found).map((output) => output.nodeId)).toEqual(['20', '22']);
  });

  it('trusts the server when it says a class is not an output node', () => {
    const graph: ApiGraph = { ...decoded, '9': { class_type: 'SaveImage', inputs: { images: ['8', 0] } } };
    expect(findOutputNodes(graph, customInfo)).toEqual([]);
  });
});

describe('inferring the outputs of a graph', () => {
  it('posts the savers and the texts, and says a preview is not posted', () => {
    const graph: ApiGraph = {
      ...decoded,
      '9': { class_type: 'PreviewImage', inputs: { images: ['8', 0] } },
      '12': videoCombine('video/webm'),
      '14': { class_type: 'PreviewAny', inputs: { source: ['8', 0] } },
    };
    const inferred = inferBindings(graph);
    expect(inferred.outputs).toEqual(['12', '14']);
    expect(inferred.notes.map((note) => note.message)).toContain(
      'node 9 (PreviewImage) only previews and is not posted; list it in "outputs" to post it.',
    );
  });
});
