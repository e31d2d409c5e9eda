/**
 * What the HTTP routes share: the queue, executor, WebSocket hub, folders and the list of accepted prompts.
 */
import type { PromptExecutor } from '../exec/prompt-executor.js';
import type { NodeEnvironment } from '../nodes/types.js';
import type { PromptQueue } from '../queue/prompt-queue.js';
import type { ComfyVersion } from '../versions/version.js';

/** A prompt accepted by POST /prompt, as tests see it. */
export interface ReceivedPrompt {
  readonly promptId: string;
  readonly clientId: string | undefined;
  readonly prompt: Record<string, unknown>;
}

/** Shared server state for route handlers. */
export interface RouteContext {
  /** Which ComfyUI the routes behave as. */
  readonly version: ComfyVersion;
  readonly queue: PromptQueue;
  readonly executor: PromptExecutor;
  readonly environment: NodeEnvironment;
  readonly received: ReceivedPrompt[];
  /** POST /prompt's counter (`number`), reset by restart. */
  nextNumber(): number;
  /** Delay /view answers (fault). */
  viewDelayMs(): number;
  /** True while `/system_stats` raises (fault). */
  systemStatsFails(): boolean;
}
