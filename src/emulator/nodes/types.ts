/**
 * How the emulator implements a ComfyUI node type: its validation hooks and what running it does to emulator values.
 */
import type { ImageBatch } from '../media/pixels.js';
import type { NodeCatalogue } from './catalogue.js';
import type { ServerFiles } from './server-files.js';

/** What node implementations may read about the server: folders, file lists and the node catalogue it serves. */
export interface NodeEnvironment extends ServerFiles {
  readonly inputDir: string;
  readonly outputDir: string;
  readonly tempDir: string;
  /** The node types this server lists in `/object_info`, with their info and implementations. */
  readonly catalogue: NodeCatalogue;
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

/**
 * What running a node type does. Its description (inputs, limits, return types, output node) is its node info: the
 * entry the recorded ComfyUI 0.3.64 served, or, for a custom node the recording lacks, `info`.
 */
export interface NodeImplementation {
  readonly name: string;
  /** A JSON file with the node's `/object_info` entry, as its pack's source defines it (custom nodes only). */
  readonly info?: URL;
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
