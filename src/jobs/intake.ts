/**
 * The intake stage: a member's request becomes a waiting job. The settings are bound (refused with a sentence when
 * they cannot be used); the record is written; then the limits (jobs in flight per member, the queue's length) are
 * checked, the job counted and queued in one atomic change of the shared queue, so two processes taking requests of
 * one member at once cannot both pass, and no process can die between counting a job and queueing it (the member
 * would stay counted one job high for ever). A process that dies after writing the record, before that change, leaves
 * a waiting record the queue does not know: the next start (embedded) or the fleet's dispatcher queues it
 * (recovery.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { isUserFacing, UserFacingError } from '../errors.js';
import type { FaultPoint } from '../fault-point.js';
import type { JobQueue } from './job-queue.js';
import { bindRequest } from './job-binding.js';
import type { JobRepository } from './job-repository.js';
import type { JobLimits } from './limits.js';
import { createJobRecord, newJobId, type JobRecord, type JobRequest } from './model.js';
import type { WorkflowSource } from './server-capabilities.js';

/** What intake works with. */
export interface IntakeContext {
  readonly queue: JobQueue;
  readonly repository: JobRepository;
  readonly workflows: WorkflowSource;
  readonly defaultWorkflow: string | undefined;
  readonly limits: JobLimits;
  /** Throws the sentence members read while new jobs cannot be taken (stopping, a declared outage). */
  readonly assertOpen: () => void;
  /** Throws when no server can run the workflow (once every server has been assessed). */
  readonly assertSomeServerCanRun: (job: Pick<JobRecord, 'workflow' | 'settings'>) => void;
  /** How long the job may take from being written to being admitted (`QueueEngine.intakeGraceMs`). */
  readonly intakeGraceMs: number;
  /** Stops the process at a named point (tests; a no-op in production). */
  readonly fault: FaultPoint;
  /** The job was written and queued. */
  readonly queued: (job: JobRecord) => Promise<void>;
}

/** Queues a job; throws a `UserFacingError` when a limit is hit or the settings cannot be used. */
export async function takeRequest(context: IntakeContext, request: JobRequest): Promise<JobRecord> {
  const { queue, repository, workflows, defaultWorkflow, limits } = context;
  context.assertOpen();
  // A job named by its caller (a web generation) that some process already wrote is not written again over it: two
  // processes finishing one pending generation at once make one job (its admission, below, is once too).
  const existing = request.id === undefined ? undefined : await repository.get(request.id);
  if (existing !== undefined) return existing;
  const bound = bindRequest(workflows, defaultWorkflow, request);
  context.assertSomeServerCanRun({ workflow: bound.workflow.name, settings: bound.settings });
  // Refused early (nothing written) in the usual case; the admission below decides.
  await queue.assertAdmissible(request.memberId, limits);
  const { workflow, settings, graph, applied } = bound;
  const record = { workflow: workflow.name, settings, graph, applied: { ...applied } };
  const id = request.id ?? newJobId();
  const sequence = await queue.nextSequence({ jobId: id, graceMs: context.intakeGraceMs });
  const job: JobRecord = { ...createJobRecord(request, record, sequence), id };
  await write(repository, job).catch(async (error: unknown) => {
    // Nothing written, nothing to admit: the job's entry goes with it (else it would wait to be forgotten).
    await queue.withdraw(job.id).catch(() => undefined);
    throw error;
  });
  context.fault('intake:after-record');
  const queued = { id: job.id, memberId: job.memberId, workflow: job.workflow, createdAt: job.createdAt };
  try {
    // Late (the store or Redis held this process up past the grace): the dispatcher takes the job in, as a stray.
    await queue.admit(queued, limits, context.intakeGraceMs);
  } catch (error) {
    if (!(await admittedAfterAll(queue, job.id, error))) {
      await repository.discard(job.id).catch(() => undefined);
      throw error;
    }
  }
  await context.queued(job);
  return job;
}

/** How long apart intake asks again whether an admission whose answer was lost went through (Redis away). */
const ADMISSION_CHECKS_MS = [0, 250, 1_000, 3_000];

/**
 * Whether an admission that threw went through after all. A refusal (a limit) did not. Any other error may have come
 * after Redis committed it (the connection lost after EXEC): the queue is asked, once Redis answers again, and the
 * answer is final (`JobQueue.withdraw`). A job admitted, or whose fate stays unknown (Redis away all along), is kept:
 * in the queue already, or taken in by the dispatcher once its grace has passed, its record being written. Only a job
 * surely not admitted is discarded: nothing is lost, nothing queued twice.
 */
async function admittedAfterAll(queue: JobQueue, jobId: string, error: unknown): Promise<boolean> {
  if (isUserFacing(error)) {
    await queue.withdraw(jobId).catch(() => undefined);
    return false;
  }
  for (const pause of ADMISSION_CHECKS_MS) {
    await sleep(pause);
    try {
      return await queue.withdraw(jobId);
    } catch {
      // Still away: asked again after a pause.
    }
  }
  return true;
}

async function write(repository: JobRepository, job: JobRecord): Promise<void> {
  try {
    await repository.create(job);
  } catch (error) {
    throw new UserFacingError('store-unavailable', 'The bot could not save your job; please try again in a minute.', {
      cause: error,
      detail: `writing job ${job.id} failed: ${String(error)}`,
    });
  }
}
