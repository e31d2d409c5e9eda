import { describe, expect, it } from 'vitest';
import { parseBinaryFrame } from '../../src/comfy/binary-frames.js';
import { binaryFrame, recording, type RecordedEvent } from './fixtures/recordings.js';

function recordedBinaries(name: string, key = 'events'): RecordedEvent[] {
  return recording<Record<string, RecordedEvent[]>>(name)[key]!.filter((event) => event.binary);
}

function frame(...parts: (number | string | Uint8Array)[]): Uint8Array {
  const chunks = parts.map((part) => {
    if (typeof part === 'number') {
      const bytes = new Uint8Array(4);
      new DataView(bytes.buffer).setUint32(0, part);
      return bytes;
    }
    return typeof part === 'string' ? new TextEncoder().encode(part) : part;
  });
  return Buffer.concat(chunks);
}

describe('parseBinaryFrame', () => {
  it('reads the legacy JPEG previews a client without feature flags received', () => {
    const previews = recordedBinaries('t2i_legacy_client');
    expect(previews).toHaveLength(6);
    for (const event of previews) {
      const parsed = parseBinaryFrame(binaryFrame(event));
      expect(parsed).toMatchObject({ ok: true, frame: { kind: 'preview', mimeType: 'image/jpeg' } });
      if (!parsed.ok || parsed.frame.kind !== 'preview') continue;
      expect(parsed.frame.bytes.byteLength).toBe(event.len! - 8);
      expect(Buffer.from(parsed.frame.bytes.subarray(0, 4)).toString('hex')).toBe('ffd8ffe0');
      expect(parsed.frame.promptId).toBeUndefined();
    }
  });

  it('reads the PNG a SaveImageWebsocket node sends as a legacy frame', () => {
    const [event] = recordedBinaries('save_image_websocket');
    const parsed = parseBinaryFrame(binaryFrame(event!));
    expect(parsed).toMatchObject({ ok: true, frame: { kind: 'preview', mimeType: 'image/png' } });
  });

  it('reads previews with metadata and attributes them to their prompt and node', () => {
    const previews = recordedBinaries('t2i_feature_flags_client');
    expect(previews).toHaveLength(3);
    for (const event of previews) {
      const parsed = parseBinaryFrame(binaryFrame(event));
      expect(parsed).toMatchObject({
        ok: true,
        frame: {
          kind: 'preview',
          mimeType: 'image/jpeg',
          promptId: '13653268-668f-4af4-8c2c-afdf059bf21d',
          nodeId: '3',
        },
      });
      if (!parsed.ok || parsed.frame.kind !== 'preview') continue;
      expect(parsed.frame.bytes.byteLength).toBe(event.len! - 8 - event.metadata_len!);
      expect(Buffer.from(parsed.frame.bytes.subarray(0, 4)).toString('hex')).toBe('ffd8ffe0');
    }
  });

  it('reads a text frame as node id and text', () => {
    expect(parseBinaryFrame(frame(3, 2, '12', 'loading model… 50%'))).toEqual({
      ok: true,
      frame: { kind: 'text', nodeId: '12', text: 'loading model… 50%' },
    });
  });

  it('takes the image type of metadata previews from the metadata', () => {
    const metadata = JSON.stringify({ node_id: '9', prompt_id: 'p', image_type: 'image/png' });
    const parsed = parseBinaryFrame(frame(4, Buffer.byteLength(metadata), metadata, new Uint8Array([1, 2, 3])));
    expect(parsed).toMatchObject({ ok: true, frame: { mimeType: 'image/png', promptId: 'p', nodeId: '9' } });
    if (parsed.ok && parsed.frame.kind === 'preview') expect([...parsed.frame.bytes]).toEqual([1, 2, 3]);
  });

  it('reads frames that sit at an offset inside a larger buffer', () => {
    const whole = Buffer.concat([Buffer.from([9, 9, 9]), frame(1, 2, new Uint8Array([0x89, 0x50]))]);
    const parsed = parseBinaryFrame(whole.subarray(3));
    expect(parsed).toMatchObject({ ok: true, frame: { kind: 'preview', mimeType: 'image/png' } });
  });

  it('rejects unknown event types, unknown image types and truncated frames without throwing', () => {
    expect(parseBinaryFrame(frame(2, 1))).toMatchObject({ ok: false, eventType: 2 });
    expect(parseBinaryFrame(frame(1, 7))).toMatchObject({ ok: false, eventType: 1 });
    expect(parseBinaryFrame(new Uint8Array([0, 0]))).toMatchObject({ ok: false });
    expect(parseBinaryFrame(frame(4, 500, '{}'))).toMatchObject({ ok: false, eventType: 4 });
    expect(parseBinaryFrame(frame(4, 3, 'abc'))).toMatchObject({ ok: false, eventType: 4 });
    expect(parseBinaryFrame(frame(3, 10, 'ab'))).toMatchObject({ ok: false, eventType: 3 });
  });
});
