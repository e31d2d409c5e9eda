/**
 * Which model files a workflow can be given on one server, and which files a generation needs. A workflow's model
 * choice goes wherever its manifest binds `checkpoint` (CheckpointLoaderSimple's `ckpt_name`, a UNet loader's
 * `unet_name`, a custom loader's input), so the choices are that input's combo on the server, not a fixed node's.
 */
import { inputSpecOf, readInputSpec, type ObjectInfo } from '../comfy/object-info.js';
import { spellingIn } from './file-spellings.js';
import { graphLoras } from './lora-binding.js';
import type { GenerationSettings } from './settings.js';
import type { InputTarget } from './graph.js';
import type { Workflow } from './workflow.js';

/** The files a server offers for a workflow's choices; a list is absent when the workflow takes no such choice. */
export interface WorkflowModels {
  /** What `--model` may name there. */
  readonly checkpoints?: readonly string[];
  /** What `--lora` may name there. */
  readonly loras?: readonly string[];
}

/** The files one generation needs on the server that runs it. */
export interface NeededModels {
  readonly checkpoint?: string;
  readonly loras: readonly string[];
}

/** The files a server lists for the inputs a workflow's model and LoRA choices go to. */
export function modelsOnServer(workflow: Workflow, objectInfo: ObjectInfo): WorkflowModels {
  const checkpoint = workflow.settings.checkpoint;
  const binding = workflow.loras;
  const loraTargets: InputTarget[] | undefined =
    binding?.mode === 'slots'
      ? binding.slots.map((nodeId) => ({ nodeId, input: 'lora_name' }))
      : binding?.mode === 'insert'
        ? [{ nodeId: '', input: 'lora_name' }]
        : undefined;
  const loaderClass = binding?.mode === 'insert' ? (binding.clip ? 'LoraLoader' : 'LoraLoaderModelOnly') : undefined;
  const graphClass = (target: InputTarget) => workflow.graph[target.nodeId]?.class_type ?? '';
  const loraClass = (target: InputTarget) => loaderClass ?? graphClass(target);
  return {
    ...listed('checkpoints', checkpoint ? commonOptions(objectInfo, checkpoint.targets, graphClass) : undefined),
    ...listed('loras', loraTargets ? commonOptions(objectInfo, loraTargets, loraClass) : undefined),
  };
}

/**
 * The files listed for every one of the targets (a file must suit each input it is written to). An input the server
 * does not list files for (a custom loader taking a path as text, a combo it does not check) restricts nothing;
 * undefined when no input lists any, and then nothing can be offered or checked.
 */
function commonOptions(
  objectInfo: ObjectInfo,
  targets: readonly InputTarget[],
  classOf: (target: InputTarget) => string,
): string[] | undefined {
  let common: string[] | undefined;
  for (const target of targets) {
    const node = objectInfo.nodes.get(classOf(target));
    const spec = node ? readInputSpec(inputSpecOf(node, target.input)?.raw) : undefined;
    // A loader class the server lacks offers nothing (the workflow does not validate there anyway).
    if (!node && target.nodeId === '') return [];
    if (spec?.kind !== 'combo' || !spec.checked) continue;
    const options = spec.options.map(String);
    common = common === undefined ? options : common.filter((option) => options.includes(option));
  }
  return common;
}

function listed<Key extends string>(key: Key, list: string[] | undefined): Partial<Record<Key, string[]>> {
  return list === undefined ? {} : ({ [key]: list } as Record<Key, string[]>);
}

/** The model and LoRAs a generation runs with: the member's choice, else what the workflow itself uses. */
export function neededModels(
  workflow: Workflow,
  settings: Pick<GenerationSettings, 'checkpoint' | 'loras'>,
): NeededModels {
  const checkpointSpec = workflow.settings.checkpoint;
  const ownCheckpoint = typeof checkpointSpec?.default === 'string' ? checkpointSpec.default : undefined;
  const checkpoint = checkpointSpec ? (settings.checkpoint ?? ownCheckpoint) : undefined;
  const loras =
    workflow.loras && settings.loras
      ? settings.loras.map((lora) => lora.name)
      : graphLoras(workflow.graph, workflow.loras).map((lora) => lora.name);
  return { ...(checkpoint === undefined ? {} : { checkpoint }), loras };
}

/** True when a server's lists hold every file a generation needs (a list the server did not give is not checked). */
export function hasNeededModels(models: WorkflowModels | undefined, needed: NeededModels): boolean {
  if (models === undefined) return true;
  const { checkpoints, loras } = models;
  const has = (list: readonly string[], name: string) => spellingIn(list, name) !== undefined;
  if (needed.checkpoint !== undefined && checkpoints !== undefined && !has(checkpoints, needed.checkpoint)) {
    return false;
  }
  return loras === undefined || needed.loras.every((name) => has(loras, name));
}
