/**
 * What comfycord knows about ComfyUI's node classes: which inputs take which setting, which nodes carry prompts and
 * which nodes are outputs. Inference reads these tables; a workflow built from other nodes needs a manifest.
 */

/** The settings that are written into node inputs (aspect is not: it becomes width and height). */
export const BINDABLE_SETTINGS = [
  'prompt',
  'negative',
  'seed',
  'steps',
  'cfg',
  'denoise',
  'width',
  'height',
  'count',
  'image',
  'checkpoint',
  'lora',
] as const;

export type BindableSetting = (typeof BINDABLE_SETTINGS)[number];

/** Scalar settings and the input that takes each, per node class. */
export const SCALAR_INPUTS: Readonly<Record<string, Partial<Record<BindableSetting, string>>>> = {
  KSampler: { seed: 'seed', steps: 'steps', cfg: 'cfg', denoise: 'denoise' },
  KSamplerAdvanced: { seed: 'noise_seed', steps: 'steps', cfg: 'cfg' },
  SamplerCustom: { seed: 'noise_seed', cfg: 'cfg' },
  // The pieces a SamplerCustomAdvanced (Flux, SD3 style graphs) is assembled from.
  RandomNoise: { seed: 'noise_seed' },
  BasicScheduler: { steps: 'steps', denoise: 'denoise' },
  CFGGuider: { cfg: 'cfg' },
  EmptyLatentImage: { width: 'width', height: 'height', count: 'batch_size' },
  EmptySD3LatentImage: { width: 'width', height: 'height', count: 'batch_size' },
  RepeatLatentBatch: { count: 'amount' },
  LoadImage: { image: 'image' },
  CheckpointLoaderSimple: { checkpoint: 'ckpt_name' },
  // LoRA loaders are not here: a chain of them takes a list of LoRAs (see lora-binding.ts).
};

/** Nodes that create the starting latent of a text-to-image run. */
export const EMPTY_LATENT_CLASSES = ['EmptyLatentImage', 'EmptySD3LatentImage'] as const;

/** Sampler nodes: their presence means the workflow denoises something. */
export const SAMPLER_CLASSES = ['KSampler', 'KSamplerAdvanced', 'SamplerCustom', 'SamplerCustomAdvanced'] as const;

/** Where prompts enter a sampler (or a guider, for SamplerCustomAdvanced): the input per side. */
export const PROMPT_SINKS: Readonly<Record<string, { positive?: string; negative?: string }>> = {
  KSampler: { positive: 'positive', negative: 'negative' },
  KSamplerAdvanced: { positive: 'positive', negative: 'negative' },
  SamplerCustom: { positive: 'positive', negative: 'negative' },
  CFGGuider: { positive: 'positive', negative: 'negative' },
  BasicGuider: { positive: 'conditioning' },
};

/** Text encoders and the inputs that hold their text (the SDXL and Flux ones have more than one). */
export const TEXT_ENCODERS: Readonly<Record<string, readonly string[]>> = {
  CLIPTextEncode: ['text'],
  CLIPTextEncodeSDXL: ['text_g', 'text_l'],
  CLIPTextEncodeSDXLRefiner: ['text'],
  CLIPTextEncodeFlux: ['clip_l', 't5xxl'],
  CLIPTextEncodeSD3: ['clip_l', 'clip_g', 't5xxl'],
};

/** Conditioning nodes whose output carries no text of their own input (Flux's "empty negative"). */
export const CONDITIONING_DEAD_ENDS = ['ConditioningZeroOut'] as const;

/** Nodes that turn a loaded image into a latent for image-to-image. */
export const VAE_ENCODE_CLASSES = ['VAEEncode', 'VAEEncodeForInpaint'] as const;

/** Nodes that enlarge an image without a sampler. */
export const UPSCALE_CLASSES = [
  'ImageUpscaleWithModel',
  'UpscaleModelLoader',
  'ImageScale',
  'ImageScaleBy',
  'ImageScaleToTotalPixels',
] as const;

/**
 * Output nodes whose results are files worth posting, in the shape ComfyUI's history reports them, and what each
 * produces. Custom saving nodes not listed here are recognised by their inputs (`SAVING_INPUTS`) or by the server's
 * `/object_info` (`output_node: true`).
 */
export const SAVING_OUTPUTS: Readonly<Record<string, string>> = {
  SaveImage: 'images',
  SaveAnimatedWEBP: 'animated images',
  SaveAnimatedPNG: 'animated images',
  SaveVideo: 'video',
  SaveWEBM: 'video',
  SaveAudio: 'audio',
  SaveAudioMP3: 'audio',
  SaveAudioOpus: 'audio',
  SaveGLB: '3D model',
  SaveSVGNode: 'SVG images',
  VHS_VideoCombine: 'video',
  SaveImageWebsocket: 'images',
  'Image Save': 'images',
  'Save Image Extended': 'images',
};

/** The names of `SAVING_OUTPUTS`. */
export const SAVING_OUTPUT_CLASSES: readonly string[] = Object.keys(SAVING_OUTPUTS);

/** Output nodes that only preview (temp files); posted only when a workflow saves nothing else. */
export const PREVIEW_OUTPUTS: Readonly<Record<string, string>> = {
  PreviewImage: 'image previews',
  MaskPreview: 'image previews',
  PreviewAudio: 'audio',
  Preview3D: '3D model',
  Preview3DAnimation: '3D model',
};

/** The names of `PREVIEW_OUTPUTS`. */
export const PREVIEW_OUTPUT_CLASSES: readonly string[] = Object.keys(PREVIEW_OUTPUTS);

/** Output nodes that show text (core's Preview Any, and the popular packs' "Show Text" nodes); always posted. */
export const TEXT_OUTPUT_CLASSES: readonly string[] = [
  'PreviewAny',
  'ShowText|pysssss',
  'Display Any (rgthree)',
  'easy showAnything',
];

/** Inputs only nodes that write files have: a node with one of them is taken as a saving output node. */
export const SAVING_INPUTS: readonly string[] = ['filename_prefix', 'save_output'];

/** What kind of model file an input names, for reports such as "lacks checkpoint x.safetensors". */
export function modelKindOf(classType: string, input: string): string | undefined {
  if (input === 'ckpt_name') return 'checkpoint';
  if (input === 'lora_name') return 'LoRA';
  if (input === 'vae_name') return 'VAE';
  if (input === 'unet_name') return 'diffusion model';
  if (input === 'control_net_name') return 'ControlNet model';
  if (input === 'style_model_name') return 'style model';
  if (/^clip_name\d?$/.test(input)) return classType === 'CLIPVisionLoader' ? 'CLIP vision model' : 'text encoder';
  if (input === 'model_name' && classType === 'UpscaleModelLoader') return 'upscale model';
  return undefined;
}
