/**
 * Binding a job's settings into a workflow, twice: when the job is queued (to refuse bad settings at once and to fix
 * the seed the member will be shown), and again when a server is chosen (that server may need the workflow's
 * fallback, and an input image only has its name once uploaded there). The second binding keeps the first's seed.
 */
import { UserFacingError } from '../errors.js';
import { sentence } from '../i18n/catalog.js';
import {
  bindWorkflow,
  type AppliedSettings,
  type ApiGraph,
  type BindError,
  type Workflow,
} from '../workflows/index.js';
import { respellFiles, type FileSpellings } from '../workflows/file-spellings.js';
import type { SettingRanges } from '../workflows/server-ranges.js';
import { foldSeed, generationSettingsSchema, type GenerationSettings } from '../workflows/settings.js';
import type { InputImage, JobRecord, JobRequest } from './model.js';
import type { WorkflowSource } from './server-capabilities.js';

/** A request bound at queue time. */
export interface BoundRequest {
  readonly workflow: Workflow;
  readonly settings: GenerationSettings;
  readonly graph: ApiGraph;
  readonly applied: AppliedSettings;
}

/** Resolves the workflow and binds the request's settings; throws a `UserFacingError` naming what is wrong. */
export function bindRequest(
  workflows: WorkflowSource,
  defaultWorkflow: string | undefined,
  request: Pick<JobRequest, 'settings' | 'inputImage'>,
): BoundRequest {
  const parsed = generationSettingsSchema.safeParse(request.settings);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new UserFacingError('invalid-settings', 'Those settings are not valid; check the values and try again.', {
      detail,
    });
  }
  const name = parsed.data.workflow ?? defaultWorkflow ?? workflows.list()[0]?.name;
  const workflow = name === undefined ? undefined : workflows.get(name);
  if (workflow === undefined) {
    throw new UserFacingError(
      'unknown-workflow',
      name === undefined
        ? 'No workflow is loaded, so no image can be made; tell the bot’s operator.'
        : `There is no workflow called ${name}; /workflows lists the ones you can use.`,
    );
  }
  const settings = withInputImage(parsed.data, request.inputImage);
  const bound = bindWorkflow(workflow, settings, { workflows: workflows.list() });
  if (!bound.ok) throw bindingError(bound.errors);
  return { workflow, settings, graph: bound.graph, applied: bound.applied };
}

/**
 * Binds a queued job for the server that will run it; `imageName` is where its input image was uploaded, `ranges`
 * what that server declares for the inputs the settings go to. A seed drawn at queue time that is above that
 * server's cap is folded into range (the same way every time); a seed the member gave is left for binding to judge.
 * File names go out as `spellings` says the server lists them (a Windows server's backslashes).
 */
export function bindForServer(
  workflows: WorkflowSource,
  workflow: Workflow,
  job: Pick<JobRecord, 'settings' | 'applied'>,
  imageName: string | undefined,
  ranges: SettingRanges = {},
  spellings: FileSpellings = new Map(),
): { graph: ApiGraph; applied: AppliedSettings } {
  const drawn = typeof job.applied['seed'] === 'number' ? job.applied['seed'] : undefined;
  const seedCap = ranges.seed?.max;
  const seed = job.settings.seed ?? (drawn !== undefined && seedCap !== undefined ? foldSeed(drawn, seedCap) : drawn);
  const settings: GenerationSettings = {
    ...job.settings,
    // A fallback workflow has another name; the settings were checked against the one the member chose.
    workflow: undefined,
    ...(seed === undefined ? {} : { seed }),
    ...(imageName === undefined ? {} : { image: { ...job.settings.image, name: imageName } }),
  };
  const bound = bindWorkflow(workflow, settings, { workflows: workflows.list(), ranges });
  if (!bound.ok) throw bindingError(bound.errors);
  return { graph: respellFiles(bound.graph, spellings), applied: bound.applied };
}

/** The member's image stands in the settings under its own file name until it is uploaded to a server. */
function withInputImage(settings: GenerationSettings, inputImage: InputImage | undefined): GenerationSettings {
  if (inputImage === undefined) return settings;
  return { ...settings, image: { name: inputImage.filename, source: settings.image?.source ?? inputImage.filename } };
}

/** Binding's refusals as one error, said in the member's language (on the card when a server's limits refuse). */
function bindingError(errors: readonly BindError[]): UserFacingError {
  const sentences = errors.map((error) => error.sentence ?? sentence('plan.asIs', { text: error.message }));
  return new UserFacingError('invalid-settings', sentences, { detail: JSON.stringify(errors) });
}
