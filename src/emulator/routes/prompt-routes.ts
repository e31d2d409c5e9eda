/**
 * POST/GET /prompt: validation, queueing and the `number` counter, exactly as ComfyUI's server.py does it; in
 * `current` mode also the prompt id check, `missing_node_type` and `extra_data.create_time` (PROTOCOL-current.md §2).
 */
import { randomUUID } from 'node:crypto';
import { isRecord, validatePrompt } from '../graph/validate.js';
import { pyFloat } from '../graph/py-coerce.js';
import { readJson, sendJson, type Router } from '../server/http-kit.js';
import { pyStr } from '../server/py-json.js';
import { asMissingNodeType } from '../versions/missing-node-type.js';
import { INVALID_PROMPT_ID_BODY, isCanonicalUuid } from '../versions/prompt-id.js';
import type { RouteContext } from './context.js';

const SENSITIVE_EXTRA_DATA_KEYS = ['auth_token_comfy_org', 'api_key_comfy_org'];

/** Registers /prompt. */
export function addPromptRoutes(router: Router, context: RouteContext): void {
  router.add('GET', '/prompt', (_req, res) => {
    sendJson(res, 200, { exec_info: { queue_remaining: context.queue.remaining() } });
  });
  router.add('POST', '/prompt', async (req, res) => {
    const body = await readJson(req);
    if (!isRecord(body)) throw new TypeError('request body is not a JSON object');
    const number = promptNumber(body, context);
    if (!('prompt' in body)) {
      const error = { type: 'no_prompt', message: 'No prompt provided', details: 'No prompt provided', extra_info: {} };
      sendJson(res, 400, { error, node_errors: {} });
      return;
    }
    const answer = queuePrompt(body, number, context);
    sendJson(res, answer.status, answer.body);
  });
}

function promptNumber(body: Record<string, unknown>, context: RouteContext): number {
  if ('number' in body) return pyFloat(body['number']);
  const counter = context.nextNumber();
  return body['front'] ? -counter : counter;
}

function queuePrompt(
  body: Record<string, unknown>,
  number: number,
  context: RouteContext,
): { status: number; body: unknown } {
  if (!isRecord(body['prompt'])) throw new TypeError('prompt is not a JSON object');
  const prompt = structuredClone(body['prompt']);
  const current = context.version === 'current';
  const promptId = current ? currentPromptId(body['prompt_id']) : legacyPromptId(body);
  if (promptId === undefined) return { status: 400, body: INVALID_PROMPT_ID_BODY };
  const result = validatePrompt(prompt, body['partial_execution_targets'], context.environment);
  const extraData = 'extra_data' in body ? body['extra_data'] : {};
  if (!isRecord(extraData)) throw new TypeError('extra_data is not a JSON object');
  if ('client_id' in body) extraData['client_id'] = body['client_id'];
  if (!result.valid) {
    const error = current ? asMissingNodeType(result.error, prompt) : result.error;
    return { status: 400, body: { error, node_errors: result.nodeErrors } };
  }
  const sensitive: Record<string, unknown> = {};
  for (const key of SENSITIVE_EXTRA_DATA_KEYS) {
    if (!(key in extraData)) continue;
    sensitive[key] = extraData[key];
    delete extraData[key];
  }
  // The jobs API sorts by it (int ms); only valid prompts get it.
  if (current) extraData['create_time'] = Date.now();
  const clientId = typeof body['client_id'] === 'string' ? body['client_id'] : undefined;
  context.received.push({ promptId, clientId, prompt: structuredClone(prompt) });
  context.queue.put({ number, promptId, prompt, extraData, outputs: result.outputs, sensitive });
  return { status: 200, body: { prompt_id: promptId, number, node_errors: result.nodeErrors } };
}

/** 0.3.64: `str(json_data.get("prompt_id", uuid4()))`, used verbatim. */
function legacyPromptId(body: Record<string, unknown>): string {
  return 'prompt_id' in body ? pyStr(body['prompt_id']) : randomUUID();
}

/** Current: absent or null mints one; anything else must be a canonical UUID (undefined = refuse). */
function currentPromptId(value: unknown): string | undefined {
  if (value === undefined || value === null) return randomUUID();
  return isCanonicalUuid(value) ? value : undefined;
}
