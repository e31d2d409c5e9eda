/**
 * The combos where a ComfyUI server lists its own files. A recording lists the files of the server it was made on
 * (`random_sd15_slim.safetensors`, `example.png`); the emulator lists its own environment's files in exactly those
 * places and serves everything else as recorded. A workflow naming a model the emulator lacks is then refused the way
 * a real server refuses it (`value_not_in_list`), and one naming a model it has is accepted.
 */
import { replaceAt, stringListTree, member, type JsonTree } from './py-json-tree.js';

/** The file lists the emulator has: its configured model lists and the images in its input/ folder. */
export interface ServerFiles {
  readonly checkpoints: readonly string[];
  readonly loras: readonly string[];
  readonly upscaleModels: readonly string[];
  /** Files in input/ (recursively, `sub/name.png`). */
  listInputImages(): string[];
}

type FileList = 'checkpoints' | 'loras' | 'upscale_models' | 'input_images';

/**
 * Node class → input → the folder it lists, as ComfyUI 0.3.64's node sources fill these combos
 * (`folder_paths.get_filename_list(...)`, LoadImage's listing of input/). Folders the emulator does not model
 * (vae, clip, unet, controlnet, ...) are left as recorded: the recorded server had none of those files, and neither
 * has the emulator (VAELoader's recorded `["pixel_space"]` is exactly what a server without VAE files lists).
 * CheckpointLoader's `config_name` lists the YAML files ComfyUI itself ships, so it stays as recorded too.
 */
const LISTED_FILES: Readonly<Record<string, Readonly<Record<string, FileList>>>> = {
  CheckpointLoaderSimple: { ckpt_name: 'checkpoints' },
  CheckpointLoader: { ckpt_name: 'checkpoints' },
  unCLIPCheckpointLoader: { ckpt_name: 'checkpoints' },
  ImageOnlyCheckpointLoader: { ckpt_name: 'checkpoints' },
  CreateHookModelAsLora: { ckpt_name: 'checkpoints' },
  CreateHookModelAsLoraModelOnly: { ckpt_name: 'checkpoints' },
  LoraLoader: { lora_name: 'loras' },
  LoraLoaderModelOnly: { lora_name: 'loras' },
  CreateHookLora: { lora_name: 'loras' },
  CreateHookLoraModelOnly: { lora_name: 'loras' },
  UpscaleModelLoader: { model_name: 'upscale_models' },
  LoadImage: { image: 'input_images' },
  LoadImageMask: { image: 'input_images' },
};

/** Where each node class lists server files: `[class, input]` pairs (for tests and documentation). */
export function listedFileInputs(): Array<readonly [string, string]> {
  return Object.entries(LISTED_FILES).flatMap(([name, inputs]) => Object.keys(inputs).map((input) => [name, input]));
}

/** Whether a node's info lists server files (and so depends on the emulator's environment). */
export function listsServerFiles(name: string): boolean {
  return name in LISTED_FILES;
}

/** The node info with the emulator's files in every combo where the server lists its own; throws if one is absent. */
export function withServerFiles(name: string, info: JsonTree, files: ServerFiles): JsonTree {
  let result = info;
  for (const [input, list] of Object.entries(LISTED_FILES[name] ?? {})) {
    result = replaceAt(result, comboPath(name, result, input), stringListTree(filesOf(list, files)));
  }
  return result;
}

/** The path of an input's option list: `[[...options], {...}]` (V1) or `["COMBO", {"options": [...]}]` (V3). */
function comboPath(name: string, info: JsonTree, input: string): Array<string | number> {
  for (const section of ['required', 'optional']) {
    const spec = member(member(member(info, 'input'), section), input);
    if (spec?.kind !== 'array') continue;
    const [type, options] = spec.items;
    if (type?.kind === 'array') return ['input', section, input, 0];
    if (type?.kind === 'string' && type.value === 'COMBO' && member(options, 'options')?.kind === 'array') {
      return ['input', section, input, 1, 'options'];
    }
  }
  throw new Error(`${name}.${input} is not a combo in its node info`);
}

function filesOf(list: FileList, files: ServerFiles): readonly string[] {
  switch (list) {
    case 'checkpoints':
      return files.checkpoints;
    case 'loras':
      return files.loras;
    case 'upscale_models':
      return files.upscaleModels;
    case 'input_images':
      // LoadImage lists the top level of input/ only; files in subfolders still pass its VALIDATE_INPUTS.
      return files.listInputImages().filter((file) => !file.includes('/'));
  }
}
