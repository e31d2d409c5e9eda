/**
 * The emulator's public types: how to start one, what a running one offers, and the faults it can be told to show.
 */
import type { Logger } from 'pino';
import type { ComfyVersion } from './versions/version.js';

/** How to start an emulator. */
export interface EmulatorOptions {
  /** 0 = any free port (the default in-process; main.ts uses 8188). */
  port?: number;
  /** Default '127.0.0.1'. */
  host?: string;
  /** Where input/, output/, temp/ live; default a fresh temp dir (removed again by close()). */
  dataDir?: string;
  /** Where output/ lives if not under dataDir (the CLI's --output-dir). */
  outputDir?: string;
  /** Time per sampler step, default 20; 0 allowed (zero render time, for benchmarks). */
  stepMs?: number;
  /** Send sampler preview frames (like --preview-method auto); default false. */
  previews?: boolean;
  /**
   * Which ComfyUI to behave as: the recorded `0.3.64` (default), or `current` (PROTOCOL-current.md: jobs API,
   * canonical UUID prompt ids, `missing_node_type`, RAM-pressure cache, asset ids on output items, new node info keys).
   */
  version?: ComfyVersion;
  /** Combo list for ckpt_name. */
  checkpoints?: string[];
  upscaleModels?: string[];
  loras?: string[];
  /**
   * Which node types `/object_info` lists: `implemented` (default) the ones the emulator runs; `full` the recorded
   * ComfyUI 0.3.64's whole catalogue (478 types), where running one it cannot emulate fails like a node that raises.
   */
  catalogue?: 'implemented' | 'full';
  logger?: Logger;
}

/** A running emulator. */
export interface Emulator {
  /** 'http://127.0.0.1:PORT' */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** The ComfyUI version it behaves as. */
  readonly version: ComfyVersion;
  readonly faults: EmulatorFaults;
  /** Every graph accepted by POST /prompt, in order, with its prompt id and client id. */
  readonly received: ReadonlyArray<{ promptId: string; clientId: string | undefined; prompt: Record<string, unknown> }>;
  /** The last 1000 HTTP requests it answered, as `METHOD /path`, oldest first (which routes a client used). */
  readonly requests: ReadonlyArray<string>;
  /** Forgets queue, history and cache, drops sockets, keeps serving on the same port. */

  restart(): Promise<void>;
  /** Stops everything; resolves when the port is free. */
  close(): Promise<void>;
}

/** Knobs for making the emulator misbehave. */
export interface EmulatorFaults {
  /** Time per sampler step, settable at runtime. */
  stepMs: number;
  failNode(match: { nodeId?: string; classType?: string }, exceptionMessage: string, exceptionType?: string): void;
  clearFailures(): void;
  /** Closes every socket abruptly (clients must reconnect). */
  dropWebSockets(): void;
  /** Stops listening / listens again on the same port. */
  refuseConnections(on: boolean): void;
  /** Delay before /view answers. */
  viewDelayMs: number;
  /**
   * `/system_stats` raises while on (it asks torch for the GPU's memory, which fails on a GPU in a bad state), so it
   * answers aiohttp's bare 500 while every other route (queue, history, interrupt) still answers.
   */
  failSystemStats(on: boolean): void;
}
