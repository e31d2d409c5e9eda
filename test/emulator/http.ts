/**
 * Small HTTP helpers for the emulator tests, on undici's fetch.
 */
import { fetch } from 'undici';

/** A response with its body parsed as JSON when it is JSON. */
export interface JsonResponse<T = unknown> {
  readonly status: number;
  readonly contentType: string | null;
  readonly body: T;
}

/** GETs a path and parses the JSON answer. */
export async function getJson<T = unknown>(baseUrl: string, path: string): Promise<JsonResponse<T>> {
  const response = await fetch(`${baseUrl}${path}`);
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    body: (await response.json()) as T,
  };
}

/** POSTs a JSON body and parses the answer (JSON when it is JSON, text otherwise). */
export async function postJson<T = unknown>(
  baseUrl: string,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<JsonResponse<T>> {
  const response = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  const contentType = response.headers.get('content-type');
  const parsed = contentType?.startsWith('application/json') ? (JSON.parse(text) as T) : (text as T);
  return { status: response.status, contentType, body: parsed };
}

/** The answer of POST /prompt. */
export interface PromptAnswer {
  readonly prompt_id: string;
  readonly number: number;
  readonly node_errors: Record<string, unknown>;
}

/** POSTs a prompt and expects it to be accepted. */
export async function queuePrompt(baseUrl: string, body: Record<string, unknown>): Promise<PromptAnswer> {
  const answer = await postJson<PromptAnswer>(baseUrl, '/prompt', body);
  if (answer.status !== 200) throw new Error(`prompt refused: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

/** The single entry of GET /history/{id}. */
export async function historyEntry<T = Record<string, unknown>>(baseUrl: string, promptId: string): Promise<T> {
  const { body } = await getJson<Record<string, T>>(baseUrl, `/history/${promptId}`);
  const entry = body[promptId];
  if (entry === undefined) throw new Error(`no history for ${promptId}`);
  return entry;
}
