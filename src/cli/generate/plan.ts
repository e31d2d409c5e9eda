/**
 * The CLI's side of planning: the same `planSettings` the bot uses (flags over workflow defaults, workflow choice,
 * every setting checked by binding), plus the sentences only a terminal needs (a disabled workflow's reasons, the
 * `--image` option instead of an attachment).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../../config.js';
import { planSettings } from '../../workflows/generation-plan.js';
import { UserFacingError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import {
  buildWorkflow,
  collectWorkflows,
  loadWorkflows,
  type LoadedWorkflows,
  type Workflow,
  type WorkflowSource,
} from '../../workflows/index.js';
import type { GenerationSettings } from '../../workflows/settings.js';
import type { GenerationArgs } from './args.js';

const MANIFEST_SUFFIX = '.manifest.json';

/** The workflow the operator asked for and the settings to bind, checked. */
export interface CliPlan {
  readonly workflow: Workflow;
  readonly settings: GenerationSettings;
}

/** Loads WORKFLOWS_DIR; a folder that cannot be read is a sentence naming it. */
export async function loadWorkflowsDir(config: Config, logger: Logger): Promise<LoadedWorkflows> {
  try {
    return await loadWorkflows(config.workflows.dir, logger);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'there is no such folder' : String(error);
    throw new UserFacingError(
      'cli-workflows-unreadable',
      `Cannot read the workflows folder ${config.workflows.dir} (WORKFLOWS_DIR): ${reason}.`,
      { cause: error },
    );
  }
}

/**
 * `--workflow ./path.json`: one API-format file, with `<name>.manifest.json` beside it when there is one, loaded as
 * the only workflow. A file that cannot be read or used is a sentence naming it and every reason.
 */
export async function loadWorkflowFile(file: string): Promise<LoadedWorkflows> {
  const name = path.basename(file).replace(/\.json$/i, '');
  const manifestPath = path.join(path.dirname(file), `${name}${MANIFEST_SUFFIX}`);
  let graphText: string;
  try {
    graphText = await readFile(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'there is no such file' : String(error);
    throw new UserFacingError('cli-workflow-unreadable', `Cannot read the workflow ${file}: ${reason}.`, {
      cause: error,
    });
  }
  const manifestText = await readFile(manifestPath, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw new UserFacingError('cli-manifest-unreadable', `Cannot read ${manifestPath}: ${String(error)}.`);
  });
  const source: WorkflowSource = {
    name,
    file: path.basename(file),
    graphText,
    manifestFile: path.basename(manifestPath),
    ...(manifestText === undefined ? {} : { manifestText }),
  };
  const result = buildWorkflow(source);
  if (!result.ok) {
    throw new UserFacingError(
      'cli-workflow-disabled',
      `The workflow ${file} cannot be used: ${result.reasons.join(' ')}`,
    );
  }
  return collectWorkflows([{ source, result }]);
}

/** Plans the generation, or throws a `UserFacingError` with the sentence to print. */
export function planCliGeneration(args: GenerationArgs, workflows: LoadedWorkflows, config: Config): CliPlan {
  if (args.settings.workflow !== undefined) checkRequested(args.settings.workflow, args, workflows);
  if (workflows.list().length === 0) {
    throw new UserFacingError(
      'cli-no-workflow',
      `No workflow in ${config.workflows.dir} is ready; run npm run generate -- --check to see why.`,
    );
  }
  const plan = planSettings({ ...args.settings, prompt: args.prompt }, {}, args.image !== undefined, {
    workflows,
    defaultWorkflow: config.workflows.defaultWorkflow,
    maxPromptLength: config.limits.promptLength,
    // The operator's own command line, not a channel: every workflow is theirs to run.
    ageRestricted: true,
  });
  if (!plan.ok) throw new UserFacingError(`cli-${plan.identifier}`, plan.message);
  return { workflow: plan.workflow, settings: plan.settings };
}

/** What the bot says about a named workflow in Discord's words, said in a terminal's. */
function checkRequested(requested: string, args: GenerationArgs, workflows: LoadedWorkflows): void {
  const workflow = workflows.get(requested);
  const disabled = workflows.report.find(
    (entry) => entry.status === 'disabled' && entry.name.toLowerCase() === requested.toLowerCase(),
  );
  if (!workflow && disabled) {
    throw new UserFacingError(
      'cli-workflow-disabled',
      `The workflow ${disabled.name} is disabled: ${disabled.reasons.join(' ')}`,
    );
  }
  if (workflow?.settings.image?.required && args.image === undefined) {
    throw new UserFacingError(
      'cli-image-needed',
      `${workflow.name} needs an input image; give one with --image <path>.`,
    );
  }
}
