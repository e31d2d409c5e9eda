/**
 * The graphs the recordings were made with, rebuilt from the history entries in the recordings.
 */

type Graph = Record<string, { class_type: string; inputs: Record<string, unknown> }>;

/** EmptyImage(1) → ImageInvert(2) → SaveImage(3), PreviewImage(4) on 1 (ws_events_basic and friends). */
export function basicGraph(color = 16711680, prefix = 'probe'): Graph {
  return {
    '1': { class_type: 'EmptyImage', inputs: { width: 64, height: 48, batch_size: 1, color } },
    '2': { class_type: 'ImageInvert', inputs: { image: ['1', 0] } },
    '3': { class_type: 'SaveImage', inputs: { images: ['2', 0], filename_prefix: prefix } },
    '4': { class_type: 'PreviewImage', inputs: { images: ['1', 0] } },
  };
}

/** The checkpoint the recording server had. */
export const RECORDED_CHECKPOINT = 'random_sd15_slim.safetensors';

/** The text-to-image graph of t2i_*.json (node 9 saves). */
export function textToImageGraph(seed = 1, steps = 6, size = 64): Graph {
  return {
    '3': {
      class_type: 'KSampler',
      inputs: {
        seed,
        steps,
        cfg: 7.0,
        sampler_name: 'euler',
        scheduler: 'normal',
        denoise: 1.0,
        model: ['4', 0],
        positive: ['6', 0],
        negative: ['7', 0],
        latent_image: ['5', 0],
      },
    },
    '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: RECORDED_CHECKPOINT } },
    '5': { class_type: 'EmptyLatentImage', inputs: { width: size, height: size, batch_size: 1 } },
    '6': { class_type: 'CLIPTextEncode', inputs: { text: 'a photo of a cat', clip: ['4', 1] } },
    '7': { class_type: 'CLIPTextEncode', inputs: { text: 'blurry', clip: ['4', 1] } },
    '8': { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } },
    '9': { class_type: 'SaveImage', inputs: { filename_prefix: 'probe_t2i', images: ['8', 0] } },
  };
}
