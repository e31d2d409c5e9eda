/**
 * ComfyUI's PromptExecutor.execute for one queued prompt: execution_start, cache check and execution_cached, nodes
 * in ExecutionList order, then execution_success / execution_error / execution_interrupted and the history result.
 */
import type { NodeEnvironment } from '../nodes/types.js';
import type { HistoryEntry, QueueItem } from '../queue/prompt-queue.js';
import type { WebSocketHub } from '../ws/hub.js';
import { ExecutionList } from './execution-list.js';
import { RunMessages } from './messages.js';
import { runNode, type InjectedFailure, type NodeOutcome, type PromptRun } from './node-runner.js';
import { ClassicCache } from './output-cache.js';
import { ProgressRegistry } from './progress-registry.js';
import { RunControl } from './run-control.js';
import { AssetRegistry } from '../versions/asset-ids.js';
import type { ComfyVersion } from '../versions/version.js';

type Graph = Record<string, { class_type: string; inputs: Record<string, unknown> }>;

/** What the executor reads from the emulator at run time. */
export interface ExecutorSettings {
  readonly hub: WebSocketHub;
  readonly environment: NodeEnvironment;
  readonly previews: boolean;
  /** `current` caches across prompts (RAM-pressure) and adds asset ids to output items. */
  readonly version: ComfyVersion;
  stepMs(): number;
  failures(): readonly InjectedFailure[];
}

/** Executes prompts one at a time and remembers what ComfyUI's server object remembers between them. */
export class PromptExecutor {
  /** client_id of the running prompt and the node it runs (for `executing` after a reconnect). */
  runningClientId: string | null = null;
  lastNodeId: string | null = null;
  private interruptRequested = false;
  private current: RunControl | undefined;
  private readonly cache: ClassicCache;
  private readonly assets: AssetRegistry | undefined;

  constructor(private readonly settings: ExecutorSettings) {
    const current = settings.version === 'current';
    this.cache = new ClassicCache(current ? 'ram-pressure' : 'classic');
    this.assets = current ? new AssetRegistry(settings.environment) : undefined;
  }

  /** POST /interrupt: takes effect at the next node start or sampler step. */
  interrupt(): void {
    this.interruptRequested = true;
  }

  /** Makes the running prompt vanish (restart) and forgets every cache. */
  abandonAndForget(): void {
    if (this.current) this.current.abandoned = true;
    this.runningClientId = null;
    this.lastNodeId = null;
    this.cache.clear();
  }

  /** Runs one prompt; resolves with its history result, or throws RunAbandoned if it was abandoned. */
  async execute(item: QueueItem): Promise<Omit<HistoryEntry, 'prompt'>> {
    this.interruptRequested = false;
    const clientId = typeof item.extraData['client_id'] === 'string' ? item.extraData['client_id'] : null;
    const control = new RunControl(item.promptId, clientId, () => this.interruptRequested);
    this.current = control;
    this.runningClientId = clientId;
    try {
      return await this.executeWith(control, item);
    } finally {
      if (this.current === control) {
        this.current = undefined;
        this.lastNodeId = null;
      }
    }
  }

  private async executeWith(control: RunControl, item: QueueItem): Promise<Omit<HistoryEntry, 'prompt'>> {
    const messages = new RunMessages(this.settings.hub, control);
    const graph = item.prompt as Graph;
    messages.record('execution_start', { prompt_id: item.promptId }, false);
    const progress = new ProgressRegistry(item.promptId, (data) => messages.toClient('progress_state', data));
    await this.cache.setPrompt(graph, this.settings.environment);
    control.checkAbandoned();
    const cachedNodes = Object.keys(graph).filter((nodeId) => this.cache.get(nodeId) !== undefined);
    messages.record('execution_cached', { nodes: cachedNodes, prompt_id: item.promptId }, false);
    const run = this.promptRun(control, messages, progress, graph, item);
    const failure = await this.runNodes(run, item.outputs);
    if (failure) this.reportFailure(run, failure);
    else messages.record('execution_success', { prompt_id: item.promptId }, false);
    return this.historyResult(graph, messages, failure === undefined);
  }

  private promptRun(
    control: RunControl,
    messages: RunMessages,
    progress: ProgressRegistry,
    graph: Graph,
    item: QueueItem,
  ): PromptRun {
    return {
      control,
      messages,
      progress,
      cache: this.cache,
      environment: this.settings.environment,
      graph,
      extraData: { ...item.extraData, ...item.sensitive },
      executed: new Set(),
      previews: this.settings.previews,
      enrichOutput: (output) => this.assets?.enrich(output) ?? output,
      stepMs: () => this.settings.stepMs(),
      failures: () => this.settings.failures(),
      setLastNode: (nodeId) => {
        if (this.current === control) this.lastNodeId = nodeId;
      },
    };
  }

  private async runNodes(
    run: PromptRun,
    outputs: readonly string[],
  ): Promise<Exclude<NodeOutcome, { ok: true }> | undefined> {
    const graph = run.graph;
    const list = new ExecutionList({
      links: (nodeId) => linksOf(graph, nodeId),
      isOutput: (nodeId) => isOutputNode(run, nodeId),
      isCached: (nodeId) => this.cache.get(nodeId) !== undefined,
    });
    for (const output of outputs) list.addNode(output);
    while (!list.isEmpty()) {
      const nodeId = list.stage();
      if (nodeId === undefined) {
        return { ok: false, interrupted: false, nodeId: outputs[0] ?? '', error: cycleError() };
      }
      const outcome = await runNode(run, nodeId);
      if (!outcome.ok) return outcome;
      list.complete(nodeId);
    }
    return undefined;
  }

  private reportFailure(run: PromptRun, failure: Exclude<NodeOutcome, { ok: true }>): void {
    const base = {
      prompt_id: run.control.promptId,
      node_id: failure.nodeId,
      node_type: run.graph[failure.nodeId]?.class_type ?? '',
      executed: [...run.executed],
    };
    if (failure.interrupted) {
      run.messages.record('execution_interrupted', base, true);
      return;
    }
    const details = { ...base, ...failure.error, current_outputs: Object.keys(run.graph) };
    run.messages.record('execution_error', details, false);
  }

  private historyResult(graph: Graph, messages: RunMessages, success: boolean): Omit<HistoryEntry, 'prompt'> {
    const outputs: Record<string, unknown> = {};
    const meta: Record<string, unknown> = {};
    for (const nodeId of Object.keys(graph)) {
      const ui = this.cache.get(nodeId)?.ui;
      if (!ui) continue;
      outputs[nodeId] = ui.output;
      meta[nodeId] = ui.meta;
    }
    const status = {
      status_str: success ? 'success' : 'error',
      completed: success,
      messages: messages.history,
    } as const;
    return { outputs, status, meta };
  }
}

function linksOf(graph: Graph, nodeId: string): Array<readonly [string, number]> {
  const links: Array<readonly [string, number]> = [];
  for (const value of Object.values(graph[nodeId]?.inputs ?? {})) {
    if (Array.isArray(value) && value.length === 2 && String(value[0]) in graph)
      links.push([String(value[0]), Number(value[1])]);
  }
  return links;
}

function isOutputNode(run: PromptRun, nodeId: string): boolean {
  const classType = run.graph[nodeId]?.class_type;
  return classType !== undefined && run.environment.catalogue.info(classType)?.outputNode === true;
}

function cycleError(): Record<string, unknown> {
  return {
    exception_message: 'Dependency cycle detected\n',
    exception_type: 'graph.DependencyCycleError',
    traceback: [],
    current_inputs: {},
  };
}
