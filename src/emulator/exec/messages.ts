/**
 * Where a run's events go: WebSocket frames routed like ComfyUI's `send_sync`, plus the status messages that are
 * also kept for history (`add_message`). Nothing leaves an abandoned run.
 */
import { encodePreview } from '../media/codec.js';
import type { PreviewFrame } from '../nodes/types.js';
import { pyJson } from '../server/py-json.js';
import { BinaryEvent, type WebSocketHub } from '../ws/hub.js';
import type { RunControl } from './run-control.js';

/** The event channel of one run. */
export class RunMessages {
  /** `status.messages` of the history entry. */
  readonly history: Array<[string, unknown]> = [];

  constructor(
    private readonly hub: WebSocketHub,
    private readonly run: RunControl,
  ) {}

  /** send_sync(type, data, client_id): to the client, or to everyone when the prompt has none. */
  toClient(type: string, data: unknown): void {
    if (!this.run.abandoned) this.hub.send(type, data, this.run.clientId);
  }

  /** Events that only exist when the prompt has a client id (executing, executed...). */
  toClientOnly(type: string, data: unknown): void {
    if (this.run.clientId !== null) this.toClient(type, data);
  }

  /** add_message: timestamped, recorded for history, sent to the client (or broadcast when `broadcast`). */
  record(type: string, data: Record<string, unknown>, broadcast: boolean): void {
    const stamped = { ...data, timestamp: Date.now() };
    this.history.push([type, stamped]);
    if (this.run.clientId !== null || broadcast) this.toClient(type, stamped);
  }

  /** A preview frame: type 4 (with metadata) for clients that negotiated it, type 1 otherwise. */
  async preview(nodeId: string, frame: PreviewFrame, kind: 'metadata' | 'legacy'): Promise<void> {
    const wantsMetadata = this.hub.supportsPreviewMetadata(this.run.clientId);
    if ((kind === 'metadata') !== wantsMetadata || !this.hub.hasRecipient(this.run.clientId)) return;
    const image = frame.image;
    const bytes = await encodePreview(
      image.frames[0] as Buffer,
      image.width,
      image.height,
      frame.format,
      frame.maxSize,
    );
    if (this.run.abandoned) return;
    if (kind === 'legacy') {
      const header = Buffer.alloc(4);
      header.writeUInt32BE(frame.format === 'JPEG' ? 1 : 2, 0);
      this.hub.sendBinary(BinaryEvent.PREVIEW_IMAGE, Buffer.concat([header, bytes]), this.run.clientId);
      return;
    }
    const metadata = Buffer.from(
      pyJson({
        node_id: nodeId,
        prompt_id: this.run.promptId,
        display_node_id: nodeId,
        parent_node_id: null,
        real_node_id: nodeId,
        image_type: frame.format === 'JPEG' ? 'image/jpeg' : 'image/png',
      }),
    );
    const length = Buffer.alloc(4);
    length.writeUInt32BE(metadata.length, 0);
    this.hub.sendBinary(
      BinaryEvent.PREVIEW_IMAGE_WITH_METADATA,
      Buffer.concat([length, metadata, bytes]),
      this.run.clientId,
    );
  }
}
