/**
 * The web face's routes: `/v1` (the API, answered in JSON and problem+json) and the page. The API authenticates every
 * request except the OpenAPI document and the output files (capability URLs); without keys configured, everything
 * answers on loopback only.
 */
import { createReadStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { WebApiKey } from '../config.js';
import type { HttpHandler } from '../health/server.js';
import type { Logger } from '../logger.js';
import { acceptedSettings, type LoadedWorkflows } from '../workflows/index.js';
import type { ModelCatalogue } from '../workflows/model-catalogue.js';
import { authenticate, isLoopback, type Caller } from './auth.js';
import { streamEvents } from './event-stream.js';
import type { WebGenerations } from './generations.js';
import { matchRoute, sendJson, type Route } from './http.js';
import type { LiveHub } from './live.js';
import { openApiDocument } from './openapi.js';
import type { OutputFiles } from './output-files.js';
import { servePageFile } from './page-files.js';
import { ApiProblem, problemOf, sendProblem } from './problem.js';
import { readRequestBody, readUploadBody } from './request-body.js';
import { createGenerationSchema, listQuerySchema, parseOr422, refineSchema, type GenerationView } from './schemas.js';
import type { WebUploads } from './uploads.js';
import type { WebRecords } from './web-records.js';

export interface WebRoutesOptions {
  readonly generations: WebGenerations;
  readonly uploads: WebUploads;
  readonly records: WebRecords;
  readonly files: OutputFiles;
  readonly hub: LiveHub;
  /** Has this process hear a generation's previews from wherever it runs, while a stream follows it. */
  readonly watch?: (id: string) => () => void;
  /** How often a stream reads its generation's end from the store (see event-stream.ts). */
  readonly streamRecheckMs?: number | undefined;
  readonly workflows: LoadedWorkflows;
  /** The model and LoRA files the servers offer, listed per workflow by GET /v1/workflows. */
  readonly models?: ModelCatalogue;
  readonly keys: readonly WebApiKey[];
  /** WEB_PUBLIC_URL: the server named in the OpenAPI document. */
  readonly publicUrl: string | undefined;
  /** The largest request body (an uploaded image and its fields). */
  readonly maxBodyBytes: number;
  readonly pageDir: string;
  readonly logger: Logger;
}

interface Exchange {
  readonly request: IncomingMessage;
  readonly response: ServerResponse;
  readonly url: URL;
  /** Authenticates the request (throws the 401/403 problem). */
  readonly caller: () => Caller;
}

const ID = '(?<id>[\\w-]{1,64})';

/** Builds the handler the HTTP endpoint hands every request it does not serve itself. */
export function createWebHandler(options: WebRoutesOptions): HttpHandler {
  const { generations } = options;
  const created = (response: ServerResponse, view: GenerationView, replayed = false) =>
    sendJson(response, 201, view, {
      Location: view.urls.self,
      ...(replayed ? { 'Idempotent-Replayed': 'true' } : {}),
    });
  const routes: Route<Exchange>[] = [
    {
      method: 'GET',
      pattern: /^\/v1\/openapi\.json$/,
      handle: async ({ response }) =>
        sendJson(response, 200, openApiDocument(options.publicUrl), { 'Cache-Control': 'no-cache' }),
    },
    {
      method: 'POST',
      pattern: /^\/v1\/generations$/,
      handle: async ({ request, response, caller }) => {
        const who = caller();
        const key = idempotencyKey(request);
        const body = await readRequestBody(request, options.maxBodyBytes);
        const fields = parseOr422(createGenerationSchema, body.fields);
        const idempotency = key === undefined ? undefined : { key, bodyHash: body.hash };
        const { view, replayed } = await generations.create(who, fields, body.upload, idempotency);
        created(response, view, replayed);
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/generations$/,
      handle: async ({ response, url, caller }) => {
        const query = parseOr422(listQuerySchema, Object.fromEntries(url.searchParams));
        sendJson(response, 200, await generations.list(caller(), query.page, query.limit));
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/v1/generations/${ID}$`),
      handle: async ({ response, caller }, { id }) => sendJson(response, 200, await generations.view(caller(), id!)),
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/v1/generations/${ID}/events$`),
      handle: async ({ request, response, caller }, { id }) => {
        const who = caller();
        await streamEvents(id!, request, response, {
          hub: options.hub,
          view: () => generations.view(who, id!),
          watch: options.watch && (() => options.watch!(id!)),
          recheckMs: options.streamRecheckMs,
        });
      },
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/v1/generations/${ID}/cancel$`),
      handle: async ({ response, caller }, { id }) => sendJson(response, 202, await generations.cancel(caller(), id!)),
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/v1/generations/${ID}/refine$`),
      handle: async ({ request, response, caller }, { id }) => {
        const who = caller();
        const body = await readRequestBody(request, 1024 * 1024);
        created(response, await generations.refine(who, id!, parseOr422(refineSchema, body.fields)));
      },
    },
    {
      method: 'POST',
      pattern: /^\/v1\/uploads$/,
      handle: async ({ request, response, caller }) => {
        const who = caller();
        const view = await options.uploads.create(who, await readUploadBody(request, options.maxBodyBytes));
        sendJson(response, 201, view, { Location: view.url });
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/uploads\/(?<id>upl_[\w-]{1,40})$/,
      handle: async ({ response, caller }, { id }) =>
        sendJson(response, 200, await options.uploads.view(caller(), id!)),
    },
    {
      method: 'GET',
      pattern: /^\/v1\/workflows$/,
      handle: async ({ response, caller }) => {
        caller();
        sendJson(response, 200, { data: describeWorkflows(options.workflows, options.models) });
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/v1/files/${ID}/(?<index>\\d{1,3})/(?<signature>[\\w-]{32})/[^/]+$`),
      handle: async ({ response }, params) => serveOutput(options, response, params),
    },
  ];

  return async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const caller = () => authenticate(request, options.keys);
    try {
      const found = matchRoute(routes, request.method ?? 'GET', path);
      if (found.route) {
        // Without keys, nothing answers beyond this machine: not the document, not the files either.
        if (options.keys.length === 0) caller();
        await found.route.handle({ request, response, url, caller }, found.params);
        return true;
      }
      if (path.startsWith('/v1/') || path === '/v1') {
        throw found.pathExists
          ? new ApiProblem(405, 'method-not-allowed', `${request.method ?? 'This method'} is not allowed on ${path}.`)
          : new ApiProblem(404, 'not-found', `There is nothing at ${path.slice(0, 100)}; see /v1/openapi.json.`);
      }
      if (request.method !== 'GET' && request.method !== 'HEAD') return false;
      if (options.keys.length === 0 && !isLoopback(request.socket.remoteAddress)) return false;
      return await servePageFile(options.pageDir, path, response);
    } catch (error) {
      const problem = problemOf(error);
      if (problem.status >= 500) options.logger.error({ err: error, path }, 'web request failed');
      else options.logger.debug({ err: error, path, code: problem.code }, 'web request refused');
      sendProblem(response, problem, path);
      return true;
    }
  };
}

function idempotencyKey(request: IncomingMessage): string | undefined {
  const key = request.headers['idempotency-key'];
  if (key === undefined) return undefined;
  const value = Array.isArray(key) ? key[0]! : key;
  if (value.length === 0 || value.length > 255) {
    throw new ApiProblem(400, 'invalid-idempotency-key', 'An Idempotency-Key must be 1 to 255 characters long.');
  }
  return value;
}

async function serveOutput(
  options: WebRoutesOptions,
  response: ServerResponse,
  params: Readonly<Record<string, string>>,
): Promise<void> {
  const id = params['id']!;
  const index = Number(params['index']);
  const gone = new ApiProblem(404, 'file-unknown', 'There is no such file; it may have been deleted.');
  if (!options.files.verify(id, index, params['signature']!)) throw gone;
  const output = (await options.records.get(id))?.outcome?.outputs[index];
  const found = output ? await options.files.locate(output) : undefined;
  if (!output || !found) throw gone;
  response.writeHead(200, {
    'Content-Type': output.contentType,
    'Content-Length': found.size,
    'Content-Disposition': `inline; filename="${output.filename.replace(/["\\\r\n]/g, '_')}"`,
    'Cache-Control': 'private, max-age=31536000, immutable',
    'X-Content-Type-Options': 'nosniff',
  });
  createReadStream(found.path).pipe(response);
}

/** What each workflow accepts, with defaults and ranges. */
function describeWorkflows(workflows: LoadedWorkflows, models: ModelCatalogue | undefined) {
  return workflows
    .list()
    .filter((workflow) => !workflow.nsfw)
    .map((workflow) => ({
      name: workflow.name,
      kind: workflow.kind,
      description: workflow.description,
      settings: acceptedSettings(workflow).map((spec) => ({
        name: spec.name,
        required: spec.required,
        ...(spec.default === undefined ? {} : { default: spec.default }),
        ...(spec.min === undefined ? {} : { min: spec.min }),
        ...(spec.max === undefined ? {} : { max: spec.max }),
        ...(spec.choices === undefined ? {} : { choices: [...spec.choices] }),
      })),
      ...listed('models', workflow.settings.checkpoint ? models?.choices(workflow, 'checkpoints') : undefined),
      ...listed('loras', workflow.settings.lora ? models?.choices(workflow, 'loras') : undefined),
    }));
}

function listed(key: string, names: readonly string[] | undefined): Record<string, string[]> {
  return names === undefined ? {} : { [key]: [...names].sort() };
}
