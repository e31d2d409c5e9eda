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
import { fileSpellingsOf, type FileSpellings } from '../workflows/file-spellings.js';
import { settingRanges, type SettingRanges } from '../workflows/server-ranges.js';
import { hasNeededModels, modelsOnServer, neededModels, type WorkflowModels } from '../workflows/workflow-models.js';
import type { GenerationSettings } from '../workflows/settings.js';

/** The workflows a server can run and the models it has. */
export interface ServerCapabilities {
  /** Lower-case names of the workflows that validated on the server (with a model and LoRAs it has). */
  readonly workflows: ReadonlySet<string>;
  readonly models: ModelLists;
  /** Per workflow (lower-case name), the files its model and LoRA choices may name there. */
  readonly choices: ReadonlyMap<string, WorkflowModels>;
  /** Per workflow (lower-case name), the ranges the server declares for its settings' inputs. */
  readonly ranges: ReadonlyMap<string, SettingRanges>;
  /** How the server spells the files it lists (a Windows server with backslashes): each graph is sent its spelling. */
  readonly spellings: FileSpellings;
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
  const choices = new Map<string, WorkflowModels>();
  for (const workflow of workflows.list()) {
    ranges.set(workflow.name.toLowerCase(), settingRanges(workflow, objectInfo));
    choices.set(workflow.name.toLowerCase(), modelsOnServer(workflow, objectInfo));
    const validation = validateWorkflow(workflow, objectInfo, serverName);
    // A server that lacks only the workflow's own model or LoRAs runs the jobs that choose ones it has.
    if (validation.problems.length === validation.modelProblems.length) usable.add(workflow.name.toLowerCase());
    if (!validation.ok)
      logger.warn({ workflow: workflow.name, problems: validation.problems }, 'workflow cannot run on this server');
    if (validation.warnings.length > 0) logger.info({ workflow: workflow.name, warnings: validation.warnings });
  }
  return { workflows: usable, models: listModels(objectInfo), ranges, choices, spellings: fileSpellingsOf(objectInfo) };
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

/** True when a server can run a job: its workflow (or a fallback) with the model and LoRAs the job runs with. */
export function canRunOnServer(
  capabilities: ServerCapabilities | undefined,
  workflows: WorkflowSource,
  job: { readonly workflow: string; readonly settings: GenerationSettings },
): boolean {
  const workflow = workflowOnServer(capabilities, workflows, job.workflow);
  if (capabilities === undefined || workflow === undefined) return false;
  return hasNeededModels(capabilities.choices.get(workflow.name.toLowerCase()), neededModels(workflow, job.settings));
}
