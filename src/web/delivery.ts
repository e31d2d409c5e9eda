/**
 * The web face's job listener: turns the runner's events for web jobs into live events for the streams, and on the
 * end keeps the output files under the data directory, records the outcome and queues the webhook. The promise it
 * returns for a terminal event is the delivery confirmation the runner waits for (src/jobs/events.ts): a result the
 * face could not keep is delivered again after a restart, a generation finished while the bot was down included.
 */
import type { FaultPoint } from '../fault-point.js';
import type { JobEvent, JobListener, TerminalJobEvent } from '../jobs/events.js';
import type { JobRecord } from '../jobs/model.js';
import type { LiveRelay } from './live-relay.js';
import type { OutputFiles } from './output-files.js';
import type { GenerationView } from './schemas.js';
import { settingsUsed } from './views.js';
import type { WebGeneration, WebRecords } from './web-records.js';

/** The channel id web jobs carry, which tells them apart from Discord's. */
export const WEB_CHANNEL = 'web';

/** The first record of a web job, from the job itself. */
export function initialRecordOf(job: JobRecord): WebGeneration {
  return {
    id: job.id,
    owner: job.memberId,
    createdAt: job.createdAt,
    workflow: job.workflow,
    settings: settingsUsed(job),
    inputImage: job.inputImage,
  };
}

export interface WebDeliveryOptions {
  readonly records: WebRecords;
  readonly files: OutputFiles;
  /** Where live events go: this process's streams, and in a fleet every other process's. */
  readonly live: Pick<LiveRelay, 'publish'>;
  readonly view: (record: WebGeneration, job: JobRecord) => GenerationView;
  /** Called once the outcome is recorded (the webhooks); its failure makes the delivery fail and be retried. */
  readonly ended?: (record: WebGeneration, job: JobRecord | undefined) => Promise<void>;
  /** Where a crash test has the process kill itself (src/fault-point.ts). */
  readonly fault?: FaultPoint;
}

/** Follows web jobs for the streams and keeps their results. */
export class WebDelivery {
  constructor(private readonly options: WebDeliveryOptions) {}

  readonly listener: JobListener = (job, event) => {
    if (job.channelId !== WEB_CHANNEL) return undefined;
    const hub = this.options.live;
    switch (event.type) {
      case 'queued':
        return hub.publish(job.id, 'queued', { position: event.position });
      case 'submitted':
      case 'moved':
        return hub.publish(job.id, 'running', {});
      case 'progress':
        return hub.publish(job.id, 'progress', progressOf(event));
      case 'leaving-queue':
        return undefined;
      case 'preview':
        return hub.publish(job.id, 'preview', {
          image: `data:${event.mimeType};base64,${event.bytes.toString('base64')}`,
        });
      default:
        return this.#end(job, event);
    }
  };

  async #end(job: JobRecord, event: TerminalJobEvent): Promise<void> {
    const { records, files, live } = this.options;
    const outputs = event.type === 'succeeded' ? await files.write(job.id, event.files) : [];
    const error =
      event.type === 'failed' ? { code: event.error.identifier, message: event.error.userMessage } : undefined;
    const record = await records.merge(job.id, initialRecordOf(job), {
      settings: settingsUsed(job),
      outcome: { status: event.type, finishedAt: job.finishedAt ?? Date.now(), error, outputs },
    });
    // Dying here, the job is not confirmed delivered: the next start delivers it again, and the webhook is queued then.
    this.options.fault?.('web:after-outcome');
    await this.options.ended?.(record, job);
    live.publish(job.id, 'end', this.options.view(record, job));
  }
}

function progressOf(event: Extract<JobEvent, { type: 'progress' }>) {
  const percent = event.max > 0 ? Math.round((100 * event.value) / event.max) : 0;
  return { value: event.value, max: event.max, percent };
}
