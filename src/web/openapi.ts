/**
 * The OpenAPI 3.1 document of `/v1`, built from the zod schemas the server validates requests with
 * (`z.toJSONSchema`, JSON Schema 2020-12 as OpenAPI 3.1 uses), so the two cannot drift.
 */
import { z } from 'zod';
import {
  createGenerationSchema,
  generationListSchema,
  generationSchema,
  problemSchema,
  refineSchema,
  uploadSchema,
  workflowListSchema,
} from './schemas.js';

const json = (schema: z.ZodType, io: 'input' | 'output' = 'output') => {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io }) as Record<
    string,
    unknown
  >;
  return rest;
};

const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
});

const generation = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Generation' } } },
});

const idParameter = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };

/** The document served at `/v1/openapi.json`; its server is `publicUrl` when the operator set one. */
export function openApiDocument(publicUrl?: string): Record<string, unknown> {
  const errors = {
    '401': problem('No or a wrong API key.'),
    '404': problem('No such generation among yours.'),
    '422': problem('The request cannot be run; `detail` says what to fix.'),
    '429': problem('A limit was hit (jobs in flight, queue length).'),
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'comfycord',
      version: '1',
      description:
        'Asynchronous image generation on ComfyUI servers, on the same engine as the comfycord Discord bot: create a ' +
        'generation, follow its events, cancel, refine, list your history.',
    },
    servers: [{ url: publicUrl ?? '/' }],
    security: [{ bearer: [] }],
    paths: {
      '/v1/generations': {
        post: {
          summary: 'Start a generation',
          parameters: [
            {
              name: 'Idempotency-Key',
              in: 'header',
              required: false,
              schema: { type: 'string', maxLength: 255 },
              description: 'A retry with the same key and body returns the first generation.',
            },
          ],
          requestBody: {
            required: true,
            content: {
              'application/json': { schema: { $ref: '#/components/schemas/CreateGeneration' } },
              'multipart/form-data': {
                schema: {
                  type: 'object',
                  description: 'The same fields as form fields, and `image` as a file for image-to-image.',
                  properties: { image: { type: 'string', format: 'binary' } },
                },
              },
            },
          },
          responses: { '201': generation('Queued; follow `urls.events`.'), ...errors },
        },
        get: {
          summary: 'Your generations, newest first',
          parameters: [
            { name: 'page', in: 'query', schema: { type: 'integer', minimum: 1 } },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100 } },
          ],
          responses: {
            '200': {
              description: 'One page',
              content: { 'application/json': { schema: json(generationListSchema) } },
            },
            '401': errors['401'],
          },
        },
      },
      '/v1/generations/{id}': {
        get: {
          summary: 'One generation',
          parameters: [idParameter],
          responses: { '200': generation('It'), ...errors },
        },
      },
      '/v1/generations/{id}/events': {
        get: {
          summary: 'Server-Sent Events: status, queued, running, progress, preview, end',
          parameters: [idParameter],
          responses: { '200': { description: 'An event stream', content: { 'text/event-stream': {} } }, ...errors },
        },
      },
      '/v1/generations/{id}/cancel': {
        post: {
          summary: 'Cancel a waiting or running generation',
          parameters: [idParameter],
          responses: { '202': generation('Cancelling'), '409': problem('It has already ended.'), ...errors },
        },
      },
      '/v1/generations/{id}/refine': {
        post: {
          summary: 'A new generation from this one, with the Discord thread grammar',
          parameters: [idParameter],
          requestBody: {
            required: true,
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Refine' } } },
          },
          responses: { '201': generation('Queued'), ...errors },
        },
      },
      '/v1/uploads': {
        post: {
          summary: "Upload an image, to use later as a generation's input image by its id",
          description:
            'The same limits as any input image (MAX_ATTACHMENT_MB, MAX_IMAGE_MEGAPIXELS, PNG, JPEG, WebP, GIF, TIFF, ' +
            'AVIF, HEIF). Owned by your key; kept as long as input images are (`expires_at`).',
          requestBody: {
            required: true,
            content: {
              'multipart/form-data': {
                schema: {
                  type: 'object',
                  required: ['file'],
                  properties: { file: { type: 'string', format: 'binary' } },
                },
              },
            },
          },
          responses: {
            '201': {
              description: 'Kept',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Upload' } } },
            },
            '413': problem('The image is larger than the limit.'),
            ...errors,
            '422': problem('Not an image this server reads, or more pixels than it accepts; `detail` says which.'),
          },
        },
      },
      '/v1/uploads/{id}': {
        get: {
          summary: 'One of your uploads',
          parameters: [idParameter],
          responses: {
            '200': {
              description: 'It',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Upload' } } },
            },
            ...errors,
            '404': problem('No such upload among yours (uploads expire).'),
          },
        },
      },
      '/v1/workflows': {
        get: {
          summary: 'The workflows and the settings each accepts, with ranges',
          responses: {
            '200': { description: 'Them', content: { 'application/json': { schema: json(workflowListSchema) } } },
          },
        },
      },
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An API key from WEB_API_KEYS.' } },
      schemas: {
        CreateGeneration: json(createGenerationSchema, 'input'),
        Refine: json(refineSchema, 'input'),
        Generation: json(generationSchema),
        Problem: json(problemSchema),
        Upload: json(uploadSchema),
      },
    },
  };
}
