/**
 * What one server can run: every loaded workflow checked against its `/object_info`, and its model lists (a member
 * who names a checkpoint or LoRA needs a server that has it). Refreshed each time the server comes up, since a
 * restarted server may have other models or custom nodes.
 */
import type { Logger } from '../logger.js';
import {
  chooseWorkflow,
  listModels,
  validateWorkflow,
  type ModelLists,
  type ObjectInfo,
  type Workflow,
} from '../workflows/index.js';
import { settingRanges, type SettingRanges } from '../workflows/server-ranges.js';
import type { GenerationSettings } from '../workflows/settings.js';

/** The workflows a server can run and the models it has. */
export interface ServerCapabilities {
  /** Lower-case names of the workflows that validated on the server. */
  readonly workflows: ReadonlySet<string>;
  readonly models: ModelLists;
  /** Per workflow (lower-case name), the ranges the server declares for its settings' inputs. */
  readonly ranges: ReadonlyMap<string, SettingRanges>;
}

/** What the pool reads workflows from: the loaded workflows. */
export interface WorkflowSource {
  /** The ready workflow of that name (case-insensitive). */
  get(name: string): Workflow | undefined;
  /** Every ready workflow. */
  list(): readonly Workflow[];
}

/** Checks every workflow against a server's object_info; problems are logged for the operator. */
export function assessServer(
  serverName: string,
  objectInfo: ObjectInfo,
  workflows: WorkflowSource,
  logger: Logger,
): ServerCapabilities {
  const usable = new Set<string>();
  const ranges = new Map<string, SettingRanges>();
  for (const workflow of workflows.list()) {
    ranges.set(workflow.name.toLowerCase(), settingRanges(workflow, objectInfo));
    const validation = validateWorkflow(workflow, objectInfo, serverName);
    if (validation.ok) usable.add(workflow.name.toLowerCase());
    else logger.warn({ workflow: workflow.name, problems: validation.problems }, 'workflow cannot run on this server');
    if (validation.warnings.length > 0) logger.info({ workflow: workflow.name, warnings: validation.warnings });
  }
  return { workflows: usable, models: listModels(objectInfo), ranges };
}

/** True when the server has the checkpoint and LoRA the settings name, if they name any. */
export function hasRequestedModels(
  models: ModelLists,
  settings: { readonly checkpoint?: string | undefined; readonly lora?: string | undefined },
): boolean {
  if (settings.checkpoint !== undefined && !models.checkpoints.includes(settings.checkpoint)) return false;
  return settings.lora === undefined || models.loras.includes(settings.lora);
}

/** The workflow a server runs for `workflowName`: itself, or the first fallback it can run; undefined if none. */
export function workflowOnServer(
  capabilities: ServerCapabilities | undefined,
  workflows: WorkflowSource,
  workflowName: string,
): Workflow | undefined {
  if (capabilities === undefined) return undefined;
  return chooseWorkflow(workflows, workflowName, (workflow) => capabilities.workflows.has(workflow.name.toLowerCase()));
}

/** True when a server can run a job: its workflow (or a fallback) and the models the member named. */
export function canRunOnServer(
  capabilities: ServerCapabilities | undefined,
  workflows: WorkflowSource,
  job: { readonly workflow: string; readonly settings: GenerationSettings },
): boolean {
  if (capabilities === undefined || !hasRequestedModels(capabilities.models, job.settings)) return false;
  return workflowOnServer(capabilities, workflows, job.workflow) !== undefined;
}
