/**
 * How the emulator describes a ComfyUI node class: its `/object_info` entry, its validation hooks and what running
 * it does to emulator values.
 */
import type { ImageBatch } from '../media/pixels.js';

/** An input's type: a type name such as `INT` / `IMAGE` / `*`, or a combo list. */
export type InputType = string | readonly string[];

/** `[type, options]` as in INPUT_TYPES (options hold default/min/max/step/tooltip...). */
export type InputSpec = readonly [InputType, Readonly<Record<string, unknown>>?];

/** The result of INPUT_TYPES(). */
export interface InputTypes {
  readonly required: Readonly<Record<string, InputSpec>>;
  readonly optional?: Readonly<Record<string, InputSpec>>;
  readonly hidden?: Readonly<Record<string, string>>;
}

/** What node definitions may read about the server: folders and model lists. */
export interface NodeEnvironment {
  readonly inputDir: string;
  readonly outputDir: string;
  readonly tempDir: string;
  readonly checkpoints: readonly string[];
  readonly loras: readonly string[];
  readonly upscaleModels: readonly string[];
  /** Files in input/ (recursively, `sub/name.png`), as LoadImage's combo lists them. */
  listInputImages(): string[];
}

/** A preview a running node hands to the progress hook. */
export interface PreviewFrame {
  readonly format: 'JPEG' | 'PNG';
  readonly image: ImageBatch;
  /** ComfyUI fits sampler previews into 512x512; SaveImageWebsocket sends full size (null). */
  readonly maxSize: number | null;
}

/** What a running node can do besides computing: report progress, wait a sampler step, read hidden inputs. */
export interface NodeRunContext {
  readonly nodeId: string;
  readonly promptId: string;
  readonly environment: NodeEnvironment;
  /** The whole prompt (hidden PROMPT input) and extra_data.extra_pnginfo (EXTRA_PNGINFO). */
  readonly prompt: Readonly<Record<string, unknown>>;
  readonly extraPngInfo: unknown;
  /** Whether sampler previews are on (like --preview-method auto). */
  readonly previewsEnabled: boolean;
  /** Per-object state that lives as long as ComfyUI keeps the node object (PreviewImage's random prefix). */
  readonly objectState: Map<string, unknown>;
  /** Reports progress (and a preview) through ComfyUI's progress hook. */
  progress(value: number, max: number, preview?: PreviewFrame): Promise<void>;
  /** Waits one sampler step (the emulator's `stepMs`), then throws if an interrupt is pending, as samplers do. */
  samplerStep(): Promise<void>;
}

/** What a node returns: its output slots, and UI data for output nodes (`executed.output`, history outputs). */
export interface NodeResult {
  readonly outputs: readonly unknown[];
  readonly ui?: Readonly<Record<string, readonly unknown[]>>;
}

/** A node class. */
export interface NodeClass {
  readonly name: string;
  readonly displayName: string;
  readonly description: string;
  readonly category: string;
  readonly pythonModule: string;
  readonly outputNode: boolean;
  readonly returnTypes: readonly string[];
  readonly returnNames?: readonly string[];
  readonly outputTooltips?: readonly string[];
  readonly deprecated?: boolean;
  readonly experimental?: boolean;
  inputTypes(environment: NodeEnvironment): InputTypes;
  /** VALIDATE_INPUTS: the inputs it takes (those skip the generic min/max/combo checks) and the check itself. */
  readonly validateInputs?: {
    readonly inputs: readonly string[];
    check(values: Readonly<Record<string, unknown>>, environment: NodeEnvironment): true | false | string;
  };
  /** IS_CHANGED: part of the cache key; NaN-like "always changed" is expressed by returning a fresh value. */
  isChanged?(values: Readonly<Record<string, unknown>>, environment: NodeEnvironment): Promise<unknown>;
  run(inputs: Readonly<Record<string, unknown>>, context: NodeRunContext): Promise<NodeResult>;
}

/** The error a node raises; its type mimics Python's exception class name in execution_error. */
export class NodeExecutionError extends Error {
  override readonly name = 'NodeExecutionError';

  constructor(
    message: string,
    readonly exceptionType = 'Exception',
    readonly traceback: readonly string[] = [],
  ) {
    super(message);
  }
}
