/**
 * Loads every workflow in a directory. One bad file never stops the others: each workflow ends up `ready` or
 * `disabled` with the reasons, and the whole report is logged so an operator sees it at start.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../logger.js';
import { buildWorkflow, type BuildResult, type WorkflowSource } from './build-workflow.js';
import type { Workflow } from './workflow.js';

const MANIFEST_SUFFIX = '.manifest.json';

/** What happened to one workflow file. */
export interface WorkflowLoadReport {
  readonly name: string;
  readonly file: string;
  readonly status: 'ready' | 'disabled';
  /** Why it is disabled (empty when ready). */
  readonly reasons: readonly string[];
  /** Remarks on a ready workflow: ambiguities a manifest should pin, outputs not posted. */
  readonly notes: readonly string[];
}

/** The workflows of a directory, by name. */
export interface LoadedWorkflows {
  /** The ready workflow of that name (case-insensitive, since members type it). */
  get(name: string): Workflow | undefined;
  /** Every ready workflow, in name order. */
  list(): readonly Workflow[];
  readonly report: readonly WorkflowLoadReport[];
}

/** Reads `dir/*.json` with their manifests. Throws only when the directory itself cannot be read. */
export async function loadWorkflows(dir: string, logger: Logger): Promise<LoadedWorkflows> {
  const files = (await readdir(dir)).filter((file) => file.endsWith('.json') && !file.startsWith('.')).sort();
  const manifests = new Set(files.filter((file) => file.endsWith(MANIFEST_SUFFIX)));
  const sources: WorkflowSource[] = [];
  const orphans: WorkflowLoadReport[] = [];
  for (const file of files.filter((name) => !manifests.has(name))) {
    const name = file.slice(0, -'.json'.length);
    const manifestFile = `${name}${MANIFEST_SUFFIX}`;
    const manifestText = manifests.has(manifestFile) ? await readFile(path.join(dir, manifestFile), 'utf8') : undefined;
    const graphText = await readFile(path.join(dir, file), 'utf8');
    sources.push({ name, file, graphText, manifestFile, ...(manifestText === undefined ? {} : { manifestText }) });
  }
  for (const manifestFile of manifests) {
    const name = manifestFile.slice(0, -MANIFEST_SUFFIX.length);
    if (!files.includes(`${name}.json`)) {
      const reason = `${manifestFile} has no workflow beside it; expected ${name}.json (an API-format export).`;
      orphans.push({ name, file: manifestFile, status: 'disabled', reasons: [reason], notes: [] });
    }
  }
  sources.sort((a, b) => a.name.localeCompare(b.name));
  const loaded = collectWorkflows(
    sources.map((source) => ({ source, result: buildWorkflow(source) })),
    orphans,
  );
  logReport(loaded.report, logger.child({ module: 'workflows', dir }));
  return loaded;
}

/** Assembles built workflows into a lookup; a second workflow with a name already taken is disabled. */
export function collectWorkflows(
  built: ReadonlyArray<{ source: WorkflowSource; result: BuildResult }>,
  extraReports: readonly WorkflowLoadReport[] = [],
): LoadedWorkflows {
  const byName = new Map<string, Workflow>();
  const report: WorkflowLoadReport[] = [];
  for (const { source, result } of built) {
    if (!result.ok) {
      report.push({ name: result.name, file: source.file, status: 'disabled', reasons: result.reasons, notes: [] });
      continue;
    }
    const { workflow } = result;
    const taken = byName.get(workflow.name.toLowerCase());
    if (taken) {
      const reason = `${source.file}: the name "${workflow.name}" is already used by ${taken.file}; give one of them another "name" in its manifest.`;
      report.push({ name: workflow.name, file: source.file, status: 'disabled', reasons: [reason], notes: [] });
      continue;
    }
    byName.set(workflow.name.toLowerCase(), workflow);
    report.push({ name: workflow.name, file: source.file, status: 'ready', reasons: [], notes: workflow.notes });
  }
  report.push(...extraReports);
  const workflows = [...byName.values()];
  return {
    get: (name) => byName.get(name.toLowerCase()),
    list: () => workflows,
    report: report.map((entry) => withFallbackNote(entry, byName)),
  };
}

// A fallback that names no ready workflow would leave members with nothing where the workflow cannot run.
function withFallbackNote(entry: WorkflowLoadReport, byName: ReadonlyMap<string, Workflow>): WorkflowLoadReport {
  const workflow = entry.status === 'ready' ? byName.get(entry.name.toLowerCase()) : undefined;
  const fallback = workflow?.fallback;
  const other = fallback !== undefined && fallback.toLowerCase() !== entry.name.toLowerCase();
  if (fallback === undefined || (other && byName.has(fallback.toLowerCase()))) return entry;
  const note = `${entry.file}: its fallback "${fallback}" is not another ready workflow, so it has none.`;
  return { ...entry, notes: [...entry.notes, note] };
}

function logReport(report: readonly WorkflowLoadReport[], logger: Logger): void {
  for (const entry of report) {
    const fields = { workflow: entry.name, file: entry.file };
    if (entry.status === 'disabled') logger.warn({ ...fields, reasons: entry.reasons }, 'workflow disabled');
    else if (entry.notes.length > 0) logger.info({ ...fields, notes: entry.notes }, 'workflow ready, with notes');
    else logger.info(fields, 'workflow ready');
  }
  if (!report.some((entry) => entry.status === 'ready')) logger.error('no workflow is ready');
}
