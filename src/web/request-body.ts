/**
 * Reading the body of `POST /v1/generations`: JSON, or `multipart/form-data` with the same fields and an `image` file
 * (parsed by undici's FormData, which Node ships). Also the hash an Idempotency-Key is compared by: of the fields and
 * the image's bytes, not of the raw body, whose multipart boundary changes from one retry to the next.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { readBody } from './http.js';
import type { Upload } from './generations.js';
import { ApiProblem } from './problem.js';

/** The fields of a request and the image it carried. */
export interface RequestBody {
  readonly fields: unknown;
  readonly upload: Upload | undefined;
  readonly hash: string;
}

const NUMERIC_FIELDS = new Set(['seed', 'count', 'steps', 'cfg', 'denoise', 'output']);

/** Reads and parses a JSON or multipart body of at most `maxBytes`. */
export async function readRequestBody(request: IncomingMessage, maxBytes: number): Promise<RequestBody> {
  // Compared in lower case, passed on as sent: a multipart boundary is case-sensitive (browsers mix cases).
  const header = request.headers['content-type'] ?? '';
  const type = header.toLowerCase();
  const bytes = await readBody(request, maxBytes);
  if (type.startsWith('multipart/form-data')) return readMultipart(bytes, header);
  if (!type.startsWith('application/json') && !(type === '' && bytes.length === 0)) {
    throw new ApiProblem(415, 'unsupported-media-type', 'Send the request as application/json or multipart/form-data.');
  }
  let fields: unknown = {};
  try {
    if (bytes.length > 0) fields = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new ApiProblem(400, 'invalid-json', 'The request body is not valid JSON.');
  }
  return { fields, upload: undefined, hash: hashOf(fields, undefined) };
}

async function readMultipart(bytes: Buffer, type: string): Promise<RequestBody> {
  const form = await formOf(bytes, type);
  const fields: Record<string, unknown> = {};
  let upload: Upload | undefined;
  for (const [name, value] of form.entries()) {
    if (typeof value !== 'string') {
      if (name !== 'image')
        throw new ApiProblem(422, 'invalid-request', `Only the image field may be a file, not ${name}.`);
      upload = { bytes: Buffer.from(await value.arrayBuffer()), name: value.name || 'upload' };
    } else if (name === 'image') {
      throw new ApiProblem(422, 'invalid-request', 'The image field must be a file.');
    } else {
      fields[name] = NUMERIC_FIELDS.has(name) && /^-?\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : value;
    }
  }
  return { fields, upload, hash: hashOf(fields, upload) };
}

/** Reads `POST /v1/uploads`: a multipart body with one file in the field `file`, and nothing else. */
export async function readUploadBody(request: IncomingMessage, maxBytes: number): Promise<Upload> {
  const header = request.headers['content-type'] ?? '';
  if (!header.toLowerCase().startsWith('multipart/form-data')) {
    throw new ApiProblem(
      415,
      'unsupported-media-type',
      'Send the image as multipart/form-data, in a field named file.',
    );
  }
  const form = await formOf(await readBody(request, maxBytes), header);
  let file: Upload | undefined;
  for (const [name, value] of form.entries()) {
    if (name !== 'file' || typeof value === 'string' || file !== undefined) {
      throw new ApiProblem(422, 'invalid-request', 'Send one image file in a field named file, and nothing else.');
    }
    file = { bytes: Buffer.from(await value.arrayBuffer()), name: value.name || 'upload' };
  }
  if (file === undefined) throw new ApiProblem(422, 'invalid-request', 'Send the image file in a field named file.');
  return file;
}

async function formOf(bytes: Buffer, type: string): Promise<FormData> {
  try {
    return await new Response(bytes, { headers: { 'content-type': type } }).formData();
  } catch {
    throw new ApiProblem(400, 'invalid-multipart', 'The multipart body could not be read; check its boundary.');
  }
}

function hashOf(fields: unknown, upload: Upload | undefined): string {
  const hash = createHash('sha256').update(canonical(fields));
  if (upload) hash.update('\n').update(upload.bytes);
  return hash.digest('base64url');
}

/** JSON with object keys sorted, so `{"a":1,"b":2}` and `{"b":2,"a":1}` are the same request. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, entry]) => `${JSON.stringify(key)}:${canonical(entry)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
