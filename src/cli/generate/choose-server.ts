/**
 * Which server runs the CLI's job: the first configured server that answers and on which the workflow validates; when
 * none can run the workflow itself, the first on which something in its fallback chain validates (`chooseWorkflow`).
 */
import { ComfyClient, ComfyProtocolError, ComfyUnreachableError, type ObjectInfo } from '../../comfy/index.js';
import type { ComfyServerConfig, Config } from '../../config.js';
import { UserFacingError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { chooseWorkflow, validateWorkflow, type Workflow } from '../../workflows/index.js';

/** A server that answered, with what it offers. */
export interface ReachedServer {
  readonly config: ComfyServerConfig;
  readonly client: ComfyClient;
  readonly objectInfo: ObjectInfo;
}

/** The server and workflow chosen; the caller owns (and closes) the client. */
export interface ServerChoice extends ReachedServer {
  readonly workflow: Workflow;
}

const MAX_PROBLEMS_SHOWN = 3;

/** The configured servers, or only the one `--server` names; throws a sentence for an unknown name. */
export function selectServers(config: Config, name: string | undefined): readonly ComfyServerConfig[] {
  const servers = config.comfy.servers;
  if (name === undefined) return servers;
  const server = servers.find((candidate) => candidate.name === name);
  if (server) return [server];
  throw new UserFacingError(
    'cli-unknown-server',
    `There is no server called ${name} in COMFY_URLS; it names ${servers.map((entry) => entry.name).join(', ')}.`,
  );
}

/** Opens a client for one configured server, with the configuration's timeouts. */
export function openClient(config: Config, server: ComfyServerConfig, logger: Logger): ComfyClient {
  return new ComfyClient({
    name: server.name,
    baseUrl: server.url,
    logger,
    stallTimeoutMs: config.comfy.stallTimeoutMs,
  });
}

/**
 * Asks one server for its object_info; closes the client and says why on failure: `could not be reached (…)`, or,
 * for a server that answered with something unusable, `GET /object_info answered, but …` (`answered` is then true).
 */
export async function reachServer(
  client: ComfyClient,
  config: ComfyServerConfig,
): Promise<{ reached: ReachedServer } | { problem: string; answered: boolean }> {
  try {
    return { reached: { config, client, objectInfo: await client.objectInfo() } };
  } catch (error) {
    await client.close();
    if (error instanceof ComfyProtocolError) return { problem: error.problem, answered: true };
    const detail = error instanceof Error ? error.message.replace(/^\[comfy [^\]]*\]\s*/, '') : String(error);
    const what = error instanceof ComfyUnreachableError ? 'could not be reached' : 'failed';
    return { problem: `${what} (${detail.split('\n')[0]})`, answered: !(error instanceof ComfyUnreachableError) };
  }
}

/**
 * Prepares a workflow for one server before it is checked there (the CLI writes its `--set` overrides into it);
 * undefined when it cannot be prepared for that server (an override names an input a fallback does not have).
 */
export type PrepareWorkflow = (workflow: Workflow, objectInfo: ObjectInfo) => Workflow | undefined;

/** Picks the server and workflow for a job; throws one sentence naming every reason when nothing can run it. */
export async function chooseServerFor(
  workflows: { get(name: string): Workflow | undefined },
  requested: Workflow,
  servers: readonly ComfyServerConfig[],
  open: (server: ComfyServerConfig) => ComfyClient,
  prepare: PrepareWorkflow = (workflow) => workflow,
): Promise<ServerChoice> {
  const reached: ReachedServer[] = [];
  const problems: string[] = [];
  const name = requested.name;
  let answered = 0;
  for (const config of servers) {
    const result = await reachServer(open(config), config);
    if ('problem' in result) {
      if (result.answered) answered += 1;
      const separator = result.answered ? ': ' : ' ';
      problems.push(`server ${config.name} at ${config.url}${separator}${result.problem}`);
      continue;
    }
    answered += 1;
    let workflow: Workflow;
    try {
      workflow = prepare(requested, result.reached.objectInfo) ?? requested;
    } catch (error) {
      await Promise.all([...reached, result.reached].map((server) => server.client.close()));
      throw error;
    }
    const validation = validateWorkflow(workflow, result.reached.objectInfo, config.name);
    if (validation.ok) return keepOnly(reached, { ...result.reached, workflow });
    reached.push(result.reached);
    // "txt2img: server gpu2 lacks …" reads as "server gpu2 lacks …" after the sentence's own "cannot run txt2img".
    problems.push(...validation.problems.map((problem) => problem.replace(`${name}: `, '')));
  }
  for (const server of reached) {
    const prepared = (candidate: Workflow) => prepare(candidate, server.objectInfo);
    const fallback = chooseWorkflow(workflows, name, (candidate) => {
      const ready = prepared(candidate);
      return ready !== undefined && validateWorkflow(ready, server.objectInfo, server.config.name).ok;
    });
    const ready = fallback && prepared(fallback);
    if (ready) return keepOnly(reached, { ...server, workflow: ready });
  }
  await Promise.all(reached.map((server) => server.client.close()));
  throw new UserFacingError('cli-no-server', noServerSentence(name, answered, problems));
}

async function keepOnly(reached: readonly ReachedServer[], choice: ServerChoice): Promise<ServerChoice> {
  await Promise.all(reached.filter((server) => server.client !== choice.client).map((server) => server.client.close()));
  return choice;
}

function noServerSentence(workflow: string, answeredCount: number, problems: readonly string[]): string {
  const shown = problems.slice(0, MAX_PROBLEMS_SHOWN).map((problem) => problem.replace(/\.$/, ''));
  const more =
    problems.length > shown.length ? `; and ${problems.length - shown.length} more (run --check to see all)` : '';
  const start = answeredCount === 0 ? 'No ComfyUI server answered' : `No server can run ${workflow}`;
  return `${start}: ${shown.join('; ')}${more}.`;
}
