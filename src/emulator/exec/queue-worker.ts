/**
 * ComfyUI's prompt_worker loop: take the next prompt, execute it, write history (which broadcasts status), then
 * tell the client `executing {node: null}`. A restart bumps the generation so an abandoned run leaves no trace.
 */
import type { Logger } from 'pino';
import type { PromptQueue } from '../queue/prompt-queue.js';
import type { WebSocketHub } from '../ws/hub.js';
import type { PromptExecutor } from './prompt-executor.js';
import { RunAbandoned } from './run-control.js';

/** The single worker that drains the queue. */
export class QueueWorker {
  private generation = 0;
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly queue: PromptQueue,
    private readonly executor: PromptExecutor,
    private readonly hub: WebSocketHub,
    private readonly logger: Logger,
  ) {}

  /** Starts draining the queue. */
  start(): void {
    this.loop ??= this.run();
  }

  /** Forgets the running prompt: whatever it still does is dropped. */
  abandonCurrent(): void {
    this.generation += 1;
    this.executor.abandonAndForget();
  }

  /** Stops after the current prompt is abandoned. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abandonCurrent();
    this.queue.wake();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const next = this.queue.take();
      if (!next) {
        await this.queue.waitForWork();
        continue;
      }
      await this.executeOne(next.item, next.taskId);
    }
  }

  private async executeOne(item: Parameters<PromptExecutor['execute']>[0], taskId: number): Promise<void> {
    const generation = this.generation;
    try {
      const result = await this.executor.execute(item);
      if (generation !== this.generation) return;
      this.queue.finish(taskId, result);
      const clientId = item.extraData['client_id'];
      if (typeof clientId === 'string') this.hub.send('executing', { node: null, prompt_id: item.promptId }, clientId);
    } catch (error) {
      if (error instanceof RunAbandoned || generation !== this.generation) return;
      this.logger.error({ err: error, promptId: item.promptId }, 'emulator execution crashed');
      this.queue.finish(taskId, {
        outputs: {},
        status: { status_str: 'error', completed: false, messages: [] },
        meta: {},
      });
    }
  }
}
