/**
 * Runs one node of a prompt the way ComfyUI's `execute()` does: cached nodes only re-announce their UI, others get
 * `executing`, run, report `executed`, and fill the cache; failures come back with ComfyUI's error details.
 */
import { setImmediate as yieldToLoop, setTimeout as delay } from 'node:timers/promises';
import { NodeExecutionError, type NodeEnvironment, type NodeRunContext, type PreviewFrame } from '../nodes/types.js';
import { pyRepr } from '../server/py-json.js';
import type { RunMessages } from './messages.js';
import type { ClassicCache } from './output-cache.js';
import type { ProgressRegistry } from './progress-registry.js';
import { InterruptProcessing, RunAbandoned, type RunControl } from './run-control.js';

/** A node failure to inject (the emulator's failNode fault). */
export interface InjectedFailure {
  readonly nodeId?: string;
  readonly classType?: string;
  readonly message: string;
  readonly exceptionType: string;
}

/** Everything a node run needs from its prompt. */
export interface PromptRun {
  readonly control: RunControl;
  readonly messages: RunMessages;
  readonly progress: ProgressRegistry;
  readonly cache: ClassicCache;
  readonly environment: NodeEnvironment;
  readonly graph: Readonly<Record<string, { class_type: string; inputs: Record<string, unknown> }>>;
  readonly extraData: Readonly<Record<string, unknown>>;
  readonly executed: Set<string>;
  readonly previews: boolean;
  /** What the server adds to an output node's UI items (current: asset ids) before sending and caching them. */
  enrichOutput(output: Readonly<Record<string, readonly unknown[]>>): Readonly<Record<string, readonly unknown[]>>;
  stepMs(): number;
  failures(): readonly InjectedFailure[];
  /** Tells the server which node runs (for `executing` on reconnect). */
  setLastNode(nodeId: string | null): void;
}

/** The outcome of one node. */
export type NodeOutcome =
  | { readonly ok: true }
  | { readonly ok: false; readonly interrupted: true; readonly nodeId: string }
  | {
      readonly ok: false;
      readonly interrupted: false;
      readonly nodeId: string;
      readonly error: Record<string, unknown>;
    };

const EXECUTION_TRACEBACK = [
  '  File "/opt/ComfyUI/execution.py", line 496, in execute\n    output_data, output_ui, has_subgraph, has_pending_tasks = await get_output_data(prompt_id, unique_id, obj, input_data_all, execution_block_cb=execution_block_cb, pre_execute_cb=pre_execute_cb, hidden_inputs=hidden_inputs)\n',
  '  File "/opt/ComfyUI/execution.py", line 315, in get_output_data\n    return_values = await _async_map_node_over_list(prompt_id, unique_id, obj, input_data_all, obj.FUNCTION, allow_interrupt=True, execution_block_cb=execution_block_cb, pre_execute_cb=pre_execute_cb, hidden_inputs=hidden_inputs)\n',
  '  File "/opt/ComfyUI/execution.py", line 289, in _async_map_node_over_list\n    await process_inputs(input_dict, i)\n',
  '  File "/opt/ComfyUI/execution.py", line 277, in process_inputs\n    result = f(**inputs)\n             ^^^^^^^^^^^\n',
];

const STEP_SLICE_MS = 25;

/** Executes (or replays from cache) one node. */
export async function runNode(run: PromptRun, nodeId: string): Promise<NodeOutcome> {
  const node = run.graph[nodeId] as { class_type: string; inputs: Record<string, unknown> };
  const cached = run.cache.get(nodeId);
  if (cached) {
    run.messages.toClientOnly('executed', {
      node: nodeId,
      display_node: nodeId,
      output: cached.ui?.output ?? null,
      prompt_id: run.control.promptId,
    });
    run.progress.finish(nodeId);
    return { ok: true };
  }
  run.progress.start(nodeId);
  const inputs = gatherInputs(run, nodeId);
  if (run.control.clientId !== null) run.setLastNode(nodeId);
  run.messages.toClientOnly('executing', { node: nodeId, display_node: nodeId, prompt_id: run.control.promptId });
  try {
    run.control.checkInterrupt();
    injectFailure(run, nodeId, node.class_type);
    const implementation = run.environment.catalogue.implementation(node.class_type);
    if (!implementation) throw notEmulated(node.class_type);
    const result = await implementation.run(inputs, nodeContext(run, nodeId, node.class_type));
    run.control.checkAbandoned();
    const ui = result.ui && Object.keys(result.ui).length > 0 ? run.enrichOutput(result.ui) : undefined;
    const meta = { node_id: nodeId, display_node: nodeId, parent_node: null, real_node_id: nodeId };
    if (ui) {
      const executed = { node: nodeId, display_node: nodeId, output: ui, prompt_id: run.control.promptId };
      run.messages.toClientOnly('executed', executed);
    }
    run.cache.set(nodeId, { outputs: result.outputs, ui: ui ? { output: ui, meta } : undefined });
  } catch (error) {
    if (error instanceof RunAbandoned) throw error;
    if (error instanceof InterruptProcessing) return { ok: false, interrupted: true, nodeId };
    return { ok: false, interrupted: false, nodeId, error: errorDetails(error, inputs) };
  }
  run.progress.finish(nodeId);
  run.executed.add(nodeId);
  return { ok: true };
}

/** get_input_data: linked values from the cache, widget values as given, then the hidden inputs. */
function gatherInputs(run: PromptRun, nodeId: string): Record<string, unknown> {
  const node = run.graph[nodeId] as { class_type: string; inputs: Record<string, unknown> };
  const info = run.environment.catalogue.info(node.class_type);
  const declared = { ...info?.required, ...info?.optional };
  const values: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(node.inputs)) {
    if (Array.isArray(value)) values[name] = run.cache.get(String(value[0]))?.outputs[Number(value[1])] ?? null;
    else if (name in declared) values[name] = value;
  }
  for (const [name, kind] of Object.entries(info?.hidden ?? {})) {
    if (kind === 'PROMPT') values[name] = run.graph;
    if (kind === 'EXTRA_PNGINFO') values[name] = run.extraData['extra_pnginfo'] ?? null;
    if (kind === 'UNIQUE_ID') values[name] = nodeId;
  }
  return values;
}

/**
 * A node type the full catalogue lists but the emulator cannot run. On a real server the closest case is a listed node
 * whose function raises when it runs (a missing dependency, an unsupported feature): ComfyUI then reports an
 * `execution_error` with the exception's type and message, keeps the outputs of nodes that already ran, and the
 * history entry ends with status `error`. Python's NotImplementedError is the exception for "exists, cannot do this".
 */
function notEmulated(classType: string): NodeExecutionError {
  return new NodeExecutionError(
    `The ComfyUI emulator lists ${classType} (--catalogue full) but cannot execute it.`,
    'NotImplementedError',
  );
}

function injectFailure(run: PromptRun, nodeId: string, classType: string): void {
  const failure = run
    .failures()
    .find(
      (candidate) =>
        (candidate.nodeId === undefined || candidate.nodeId === nodeId) &&
        (candidate.classType === undefined || candidate.classType === classType),
    );
  if (failure) throw new NodeExecutionError(failure.message, failure.exceptionType);
}

function nodeContext(run: PromptRun, nodeId: string, classType: string): NodeRunContext {
  return {
    nodeId,
    promptId: run.control.promptId,
    environment: run.environment,
    prompt: run.graph,
    extraPngInfo: run.extraData['extra_pnginfo'],
    previewsEnabled: run.previews,
    objectState: run.cache.objectState(nodeId, classType),
    progress: (value, max, preview) => reportProgress(run, nodeId, value, max, preview),
    samplerStep: async () => {
      await waitOneStep(run);
      run.control.checkInterrupt();
    },
  };
}

/** Sleeps one sampler step in short slices, so a changed `stepMs` or an abandoned run takes effect at once. */
async function waitOneStep(run: PromptRun): Promise<void> {
  const started = performance.now();
  await yieldToLoop();
  for (;;) {
    run.control.checkAbandoned();
    const remaining = run.stepMs() - (performance.now() - started);
    if (remaining <= 0) return;
    await delay(Math.min(remaining, STEP_SLICE_MS));
  }
}

/** ComfyUI's progress hook: progress_state, [type-4 preview], progress, [type-1 preview]. */
async function reportProgress(
  run: PromptRun,
  nodeId: string,
  value: number,
  max: number,
  preview: PreviewFrame | undefined,
): Promise<void> {
  run.control.checkAbandoned();
  run.progress.update(nodeId, value, max);
  if (preview) await run.messages.preview(nodeId, preview, 'metadata');
  run.messages.toClient('progress', { value, max, prompt_id: run.control.promptId, node: nodeId });
  if (preview) await run.messages.preview(nodeId, preview, 'legacy');
}

function errorDetails(error: unknown, inputs: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const nodeError = error instanceof NodeExecutionError ? error : undefined;
  const message = error instanceof Error ? error.message : String(error);
  return {
    exception_message: `${message}\n`,
    exception_type: nodeError?.exceptionType ?? 'Exception',
    traceback: [...EXECUTION_TRACEBACK, ...(nodeError?.traceback ?? [])],
    current_inputs: Object.fromEntries(Object.entries(inputs).map(([name, value]) => [name, [formatValue(value)]])),
  };
}

/** ComfyUI's format_value: primitives stay, everything else becomes its str(). */
function formatValue(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (['string', 'number', 'boolean'].includes(typeof value)) return value;
  if (typeof value === 'object' && 'kind' in value) return describeValue(value as { kind: string });
  return pyRepr(value);
}

function describeValue(value: { kind: string; width?: number; height?: number; frames?: unknown }): string {
  if (value.kind === 'image' && Array.isArray(value.frames)) {
    return `tensor(<image batch ${value.frames.length}x${value.height}x${value.width}x3>)`;
  }
  return `<${value.kind} object>`;
}
