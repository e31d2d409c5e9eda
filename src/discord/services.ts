/**
 * What the Discord layer needs from the rest of the bot, as small interfaces the composition root fills in. Handlers
 * never reach for globals; tests wire real implementations against the emulator and the fake Discord.
 */
import type { REST } from 'discord.js';
import type { Config } from '../config.js';
import type { FaultPoint } from '../fault-point.js';
import type { ProcessRecord } from '../health/fleet-presence.js';
import type { JobListener } from '../jobs/events.js';
import type { JobRecord, JobRequest } from '../jobs/model.js';
import type { RunnerSnapshot } from '../jobs/snapshot.js';
import type { Logger } from '../logger.js';
import type { Sessions } from '../sessions/index.js';
import type { LoadedWorkflows } from '../workflows/index.js';
import type { ModelCatalogue } from '../workflows/model-catalogue.js';
import type { CardUpdater } from './card-updater.js';
import type { InputFolder } from './input-images.js';
import type { RequestJournal } from './request-journal.js';

/** The job runner as the Discord layer uses it. */
export interface JobsPort {
  /** Queues a job; throws a UserFacingError when a limit is hit. */
  enqueue(request: JobRequest): Promise<JobRecord>;
  /** Cancels a waiting or running job of the member's; throws a UserFacingError when it cannot. */
  cancel(jobId: string, memberId: string): Promise<void>;
  /** A job by id, from memory or the store (delivered jobs expire after a while). */
  findJob(jobId: string): Promise<JobRecord | undefined>;
  /** What waits and runs where, and how the servers are, right now. */
  snapshot(): RunnerSnapshot;
  /** Subscribes to every job's events; returns the unsubscribe function. */
  onEvent(listener: JobListener): () => void;
}

/** The fleet's roll call, as `/queue` reads it. */
export interface FleetPort {
  /** Every live comfycord process, oldest first. */
  roster(): Promise<readonly ProcessRecord[]>;
}

export interface BotServices {
  readonly config: Config;
  readonly workflows: LoadedWorkflows;
  /** The model and LoRA files the servers offer, per workflow. */
  readonly models: ModelCatalogue;
  readonly jobs: JobsPort;
  readonly fleet: FleetPort;
  readonly sessions: Sessions;
  readonly cards: CardUpdater;
  /** Where images members attach are kept until their jobs have run. */
  readonly inputs: InputFolder;
  /** Requests received and not yet answered, written down before they are acknowledged. */
  readonly requests: RequestJournal;
  /** Stops the process at a named point (tests crash it there); a no-op in production. */
  readonly fault: FaultPoint;
}

/** What finishing a received request needs, with or without its discord.js object (a replay has none). */
export interface FinishContext {
  readonly services: BotServices;
  /** The bot's REST manager (channel messages: a reply's status card). */
  readonly rest: REST;
  readonly logger: Logger;
}
