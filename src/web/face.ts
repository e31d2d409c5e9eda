/**
 * The web face of the engine: the `/v1` API and the page, served by the HTTP endpoint. Attached to a started engine
 * before it resumes, so the results of web jobs that finished while the process was down are kept and their webhooks
 * sent.
 */
import type { Engine } from '../engine.js';
import type { HttpHandler } from '../health/server.js';
import { faultPointFor } from '../fault-point.js';
import type { JobRecord } from '../jobs/model.js';
import { WebDelivery } from './delivery.js';
import { WebGenerations } from './generations.js';
import { LiveHub } from './live.js';
import { localRelay, RedisLiveRelay, type LiveRelay } from './live-relay.js';
import { OutputFiles } from './output-files.js';
import { defaultPageDir } from './page-files.js';
import { createWebHandler } from './routes.js';
import { viewOf } from './views.js';
import { AddressGuard } from './webhook-addresses.js';
import { webhookPolicy } from './webhook-policy.js';
import { WebUploads } from './uploads.js';
import { WebhookSender } from './webhooks.js';
import { WebRecords, type WebGeneration } from './web-records.js';
import { catalogueOf } from '../workflows/model-catalogue.js';

/** The web side of a running engine. */
export interface WebFace {
  /** What the HTTP endpoint hands every request that is not `/healthz` or `/metrics`. */
  readonly handle: HttpHandler;
  /** Tells the face where it answers, for the absolute URLs in webhooks when WEB_PUBLIC_URL is unset. */
  listening(url: string): void;
  /** Finishes what a crash interrupted (generations accepted but not yet jobs); once the engine has resumed. */
  resume(): Promise<void>;
  /** Ends the event streams and stops sending webhooks (unsent ones wait in the store): before the store closes. */
  close(): Promise<void>;
}

export interface WebFaceOptions {
  /** Where the built page is; `dist/page` of this checkout by default. */
  readonly pageDir?: string;
  /** The pauses between webhook retries (tests shorten them). */
  readonly webhookBackoffMs?: readonly number[];
  /** How often an open event stream reads its generation's end from the store (tests shorten it). */
  readonly streamRecheckMs?: number;
  /**
   * False in a bot process without HTTP_PORT: nothing is served, but web jobs it carries (in a fleet any process
   * carries any job) still have their results kept, their outcome recorded, their events relayed and webhooks sent.
   */
  readonly serving?: boolean;
}

/** Subscribes the web face to the engine's jobs and builds its routes. */
export async function attachWeb(engine: Engine, options: WebFaceOptions = {}): Promise<WebFace> {
  const { config, store, runner } = engine;
  const logger = engine.logger.child({ module: 'web' });
  const records = new WebRecords(store);
  const files = await OutputFiles.open(store, engine.dataDir, {
    ttlMs: config.retention.inputsMs,
    maxBytes: config.limits.sharedFileBytes,
    logger,
  });
  const hub = new LiveHub();
  const { publicUrl } = config.web;
  const view = (record: WebGeneration, job: JobRecord | undefined, origin = publicUrl) =>
    viewOf({ record, job, position: undefined, progress: undefined }, files, origin);
  const fault = faultPointFor(config.faultPoint);
  const guard = new AddressGuard(config.web.webhookPrivateNetworks);
  const policy = webhookPolicy(config.web.webhookAllow, config.web.webhookSecret, guard);
  const webhooks = new WebhookSender({
    store,
    secret: config.web.webhookSecret,
    policy,
    guard,
    logger,
    backoffMs: options.webhookBackoffMs,
    fault,
  });
  // A receiver does not know where the API is: its URLs are absolute, from WEB_PUBLIC_URL or the endpoint's address.
  let listeningUrl = '';
  const announceEnd = async (record: WebGeneration, job: JobRecord | undefined) => {
    if (record.webhook === undefined) return;
    const data = view(record, job, publicUrl ?? listeningUrl);
    // The message id names the generation's end: delivered again after a restart, it is still one message.
    const payload = { type: `generation.${data.status}`, timestamp: new Date().toISOString(), data };
    await webhooks.enqueue(`msg_${record.id}`, record.webhook, payload);
  };
  // In a fleet every process hears every web job's live events, so any of them can serve its stream.
  let live: LiveRelay = localRelay(hub);
  if (store.kind === 'redis') {
    const relay = new RedisLiveRelay({
      url: config.storeUrl,
      hub,
      endOf: async (id) => {
        const record = await records.get(id);
        return record?.outcome === undefined ? undefined : view(record, undefined);
      },
      logger,
    });
    await relay.start();
    live = relay;
  }
  const delivery = new WebDelivery({ records, files, live, view, ended: announceEnd, fault });
  runner.onEvent(delivery.listener);
  await webhooks.resume();
  const uploads = new WebUploads({
    store,
    inputs: engine.inputs,
    retentionMs: config.retention.inputsMs,
    maxBytes: config.limits.attachmentBytes,
    maxPixels: config.limits.imagePixels,
    publicUrl,
  });
  const generations = new WebGenerations({
    engine,
    uploads,
    records,
    files,
    hub,
    checkWebhook: policy.check,
    publicUrl,
    fault,
  });
  const handle = createWebHandler({
    generations,
    uploads,
    records,
    files,
    hub,
    watch: (id) => live.watch(id),
    streamRecheckMs: options.streamRecheckMs,
    workflows: engine.workflows,
    models: catalogueOf(() => engine.runner.modelChoices()),
    keys: config.web.apiKeys,
    publicUrl,
    // An image as large as Discord's attachment limit, and room for the fields around it.
    maxBodyBytes: config.limits.attachmentBytes + 64 * 1024,
    pageDir: options.pageDir ?? defaultPageDir(),
    logger,
  });
  if (config.web.apiKeys.length === 0 && options.serving !== false) {
    logger.warn('WEB_API_KEYS is not set: the web API and page answer only requests from this machine');
  }
  const refused = (record: WebGeneration) => announceEnd(record, undefined);
  // In a fleet, what a killed process left is finished by a live one without waiting for a start: its pending
  // generations as soon as its life is over (an earlier release's past the intake's grace; a request still being made
  // a job is left to its live process), and its unsent webhooks in the dispatcher's pass over strays (each try is
  // leased: sent once). Embedded, the start does both (resume).
  const unhooks =
    store.kind === 'redis'
      ? [
          engine.runner.onReceivedPass((graceMs) => generations.resumePending(refused, logger, graceMs)),
          engine.runner.onStrayPass(() => webhooks.resume()),
        ]
      : [];
  return {
    handle,
    // Embedded, every pending generation is the last run's; in a fleet, only those whose writer's life is over (a
    // live process is still making its own a job), and those naming none past the intake's grace.
    resume: () =>
      generations.resumePending(refused, logger, store.kind === 'redis' ? runner.engine.intakeGraceMs : undefined),
    listening: (url) => {
      listeningUrl = url;
    },
    close: async () => {
      for (const unhook of unhooks) unhook();
      hub.close();
      await live.close();
      await webhooks.stop();
    },
  };
}
