/**
 * ComfyUI's binary WebSocket frames (PROTOCOL.md): a big-endian u32 event type, then
 *  1 PREVIEW_IMAGE:                 [u32 image type: 1=JPEG, 2=PNG][image bytes]
 *  4 PREVIEW_IMAGE_WITH_METADATA:   [u32 json length][json metadata][image bytes]
 *  3 TEXT:                          [u32 node id length][node id utf8][text utf8]
 */
import { z } from 'zod';

/** Binary event types on the wire. Type 2 exists only inside the server. */
export const BinaryEventType = { previewImage: 1, text: 3, previewImageWithMetadata: 4 } as const;

const LEGACY_IMAGE_TYPES: Readonly<Record<number, string>> = { 1: 'image/jpeg', 2: 'image/png' };

const PreviewMetadataSchema = z.looseObject({
  node_id: z.string().optional(),
  prompt_id: z.string().optional(),
  display_node_id: z.string().optional(),
  image_type: z.string().default('image/jpeg'),
});

/** A decoded binary frame. Legacy previews (type 1) name no prompt: they belong to the prompt running now. */
export type BinaryFrame =
  | {
      readonly kind: 'preview';
      readonly bytes: Uint8Array;
      readonly mimeType: string;
      readonly promptId?: string;
      readonly nodeId?: string;
    }
  | { readonly kind: 'text'; readonly nodeId: string; readonly text: string };

/** The result of decoding a binary frame; never throws. */
export type ParsedBinaryFrame =
  | { readonly ok: true; readonly frame: BinaryFrame }
  | { readonly ok: false; readonly reason: string; readonly eventType?: number };

const decoder = new TextDecoder('utf-8');

/** Decodes one binary frame. Unknown event types and truncated frames come back as `ok: false`. */
export function parseBinaryFrame(data: Uint8Array): ParsedBinaryFrame {
  if (data.byteLength < 4) return { ok: false, reason: `frame of ${data.byteLength} bytes has no event type` };
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const eventType = view.getUint32(0);
  switch (eventType) {
    case BinaryEventType.previewImage:
      return parseLegacyPreview(data, view);
    case BinaryEventType.previewImageWithMetadata:
      return parsePreviewWithMetadata(data, view);
    case BinaryEventType.text:
      return parseText(data, view);
    default:
      return { ok: false, reason: `unknown binary event type ${eventType}`, eventType };
  }
}

function parseLegacyPreview(data: Uint8Array, view: DataView): ParsedBinaryFrame {
  if (data.byteLength < 8) return { ok: false, reason: 'preview frame without an image type', eventType: 1 };
  const imageType = view.getUint32(4);
  const mimeType = LEGACY_IMAGE_TYPES[imageType];
  if (!mimeType) return { ok: false, reason: `unknown preview image type ${imageType}`, eventType: 1 };
  return { ok: true, frame: { kind: 'preview', bytes: data.subarray(8), mimeType } };
}

function parsePreviewWithMetadata(data: Uint8Array, view: DataView): ParsedBinaryFrame {
  const fail = (reason: string): ParsedBinaryFrame => ({ ok: false, reason, eventType: 4 });
  if (data.byteLength < 8) return fail('preview frame without a metadata length');
  const jsonLength = view.getUint32(4);
  if (8 + jsonLength > data.byteLength) return fail(`metadata length ${jsonLength} exceeds the frame`);
  let json: unknown;
  try {
    json = JSON.parse(decoder.decode(data.subarray(8, 8 + jsonLength)));
  } catch {
    return fail('preview metadata is not JSON');
  }
  const metadata = PreviewMetadataSchema.safeParse(json);
  if (!metadata.success) return fail(`preview metadata does not parse: ${metadata.error.message}`);
  const { prompt_id: promptId, node_id: nodeId, image_type: mimeType } = metadata.data;
  return { ok: true, frame: { kind: 'preview', bytes: data.subarray(8 + jsonLength), mimeType, promptId, nodeId } };
}

function parseText(data: Uint8Array, view: DataView): ParsedBinaryFrame {
  if (data.byteLength < 8) return { ok: false, reason: 'text frame without a node id length', eventType: 3 };
  const nodeIdLength = view.getUint32(4);
  if (8 + nodeIdLength > data.byteLength) {
    return { ok: false, reason: `node id length ${nodeIdLength} exceeds the frame`, eventType: 3 };
  }
  const nodeId = decoder.decode(data.subarray(8, 8 + nodeIdLength));
  const text = decoder.decode(data.subarray(8 + nodeIdLength));
  return { ok: true, frame: { kind: 'text', nodeId, text } };
}
