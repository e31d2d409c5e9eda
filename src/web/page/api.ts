/**
 * The page's client of `/v1`: JSON calls with the saved key, problems turned into their one sentence, and event
 * streams read with fetch (EventSource cannot send an Authorization header), resumed with Last-Event-ID.
 */

/** A generation as the API describes it. */
export interface Generation {
  id: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
  position?: number;
  progress?: { value: number; max: number; percent: number };
  workflow: string;
  settings: Record<string, unknown>;
  outputs: { url: string; content_type: string; size: number; filename: string }[];
  error?: { code: string; message: string };
  parent_id?: string;
  created_at: string;
  finished_at?: string;
  urls: { self: string; events: string; cancel: string; refine: string };
}

export interface Workflow {
  name: string;
  kind: string;
  description: string;
}

/** An answer that was not a success: `message` is the API's one sentence. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const KEY_STORAGE = 'comfycord.apiKey';

export function savedKey(): string {
  return localStorage.getItem(KEY_STORAGE) ?? '';
}

export function saveKey(key: string): void {
  localStorage.setItem(KEY_STORAGE, key.trim());
}

function headers(extra: Record<string, string> = {}): Record<string, string> {
  const key = savedKey();
  return key === '' ? extra : { ...extra, authorization: `Bearer ${key}` };
}

/** Calls the API; resolves with the JSON answer or rejects with an ApiError carrying the sentence. */
export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers: headers(body === undefined ? {} : { 'content-type': 'application/json' }),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'The server did not answer; check your connection and try again.');
  }
  const answer = (await response.json().catch(() => ({}))) as { detail?: string };
  if (!response.ok) throw new ApiError(response.status, answer.detail ?? `The server answered ${response.status}.`);
  return answer as T;
}

/** An image kept by `POST /v1/uploads`. */
export interface UploadedImage {
  id: string;
  url: string;
  filename: string;
  width: number;
  height: number;
  expires_at: string;
}

/** Uploads an image for later use as a generation's input; rejects with an ApiError carrying the sentence. */
export async function uploadImage(file: File): Promise<UploadedImage> {
  const form = new FormData();
  form.set('file', file, file.name);
  let response: Response;
  try {
    response = await fetch('/v1/uploads', { method: 'POST', headers: headers(), body: form });
  } catch {
    throw new ApiError(0, 'The server did not answer; check your connection and try again.');
  }
  const answer = (await response.json().catch(() => ({}))) as { detail?: string };
  if (!response.ok) throw new ApiError(response.status, answer.detail ?? `The server answered ${response.status}.`);
  return answer as UploadedImage;
}

/** One server-sent event. */
export interface StreamEvent {
  event: string;
  data: unknown;
}

/** Follows a generation's events until its end, reconnecting where it left off; `onEvent` sees each one. */
export async function follow(generation: Generation, onEvent: (event: StreamEvent) => void): Promise<void> {
  let lastId: string | undefined;
  for (let tries = 0; tries < 20; tries++) {
    try {
      const extra: Record<string, string> = lastId === undefined ? {} : { 'last-event-id': lastId };
      const response = await fetch(generation.urls.events, { headers: headers(extra) });
      if (!response.ok || !response.body) throw new Error(`events answered ${response.status}`);
      const ended = await readStream(response.body, (id, event) => {
        if (id !== undefined) lastId = id;
        onEvent(event);
      });
      if (ended) return;
    } catch {
      // Dropped (a phone going to sleep, a proxy timing out): wait a little and resume.
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(500 * 2 ** tries, 5000)));
  }
}

async function readStream(
  body: ReadableStream<Uint8Array>,
  onEvent: (id: string | undefined, event: StreamEvent) => void,
): Promise<boolean> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return false;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let id: string | undefined;
      let name = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        const colon = line.indexOf(':');
        if (colon <= 0) continue;
        const field = line.slice(0, colon);
        const text = line.slice(colon + 1).replace(/^ /, '');
        if (field === 'id') id = text;
        else if (field === 'event') name = text;
        else if (field === 'data') data.push(text);
      }
      if (data.length === 0) continue;
      onEvent(id, { event: name, data: JSON.parse(data.join('\n')) });
      if (name === 'end') {
        await reader.cancel();
        return true;
      }
    }
  }
}
