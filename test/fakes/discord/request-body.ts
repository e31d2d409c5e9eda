/**
 * Reads a REST request body the way Discord accepts it: JSON, or multipart/form-data with `files[N]` parts and a
 * `payload_json` part (the format discord.js uses whenever files are attached).
 */
import type { IncomingMessage } from 'node:http';
import type { RecordedFile } from './call-log.js';
import { errors } from './rest-types.js';

/** Discord refuses request bodies above this size outright. */
const MAX_BODY_BYTES = 100 * 1024 * 1024;

/** A parsed body. */
export interface ParsedBody {
  readonly body: unknown;
  readonly files: RecordedFile[];
}

/** Reads the whole request; a body over the hard limit is refused with 413. */
export async function readRequestBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw errors.tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Parses raw bytes by content type. */
export async function parseBody(raw: Buffer, contentType: string | undefined): Promise<ParsedBody> {
  if (raw.length === 0) return { body: null, files: [] };
  const type = (contentType ?? '').toLowerCase();
  if (type.startsWith('multipart/form-data')) return parseMultipart(raw, contentType ?? '');
  return { body: parseJson(raw.toString('utf8')), files: [] };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw errors.invalidJson();
  }
}

async function parseMultipart(raw: Buffer, contentType: string): Promise<ParsedBody> {
  let form: FormData;
  try {
    // Node's fetch Request implements multipart parsing; the URL is only a placeholder it requires.
    form = await new Request('http://127.0.0.1/', {
      method: 'POST',
      headers: { 'content-type': contentType },
      body: raw,
    }).formData();
  } catch {
    throw errors.invalidFormBody([{ path: [], code: 'BASE_TYPE_BAD_FORM', message: 'Malformed multipart body.' }]);
  }
  let body: unknown = null;
  const files: RecordedFile[] = [];
  for (const [fieldName, value] of form.entries()) {
    if (typeof value === 'string') {
      if (fieldName === 'payload_json') body = parseJson(value);
      continue;
    }
    const data = Buffer.from(await value.arrayBuffer());
    files.push({ fieldName, filename: value.name, contentType: value.type || 'application/octet-stream', data });
  }
  return { body, files };
}
