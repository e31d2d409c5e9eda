/**
 * The intake stage: a member's request becomes a waiting job. The limits (jobs in flight per member, the queue's
 * length) are checked and the job counted in one atomic change of the shared queue, so two processes taking requests
 * of one member at once cannot both pass; the settings are bound (refused with a sentence when they cannot be used);
 * the record is written; only then does the job join the queue.
 */
import { UserFacingError } from '../errors.js';
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
  /** The job was written and queued. */
  readonly queued: (job: JobRecord) => Promise<void>;
}

/** Queues a job; throws a `UserFacingError` when a limit is hit or the settings cannot be used. */
export async function takeRequest(context: IntakeContext, request: JobRequest): Promise<JobRecord> {
  const { queue, repository, workflows, defaultWorkflow, limits } = context;
  context.assertOpen();
  const id = request.id ?? newJobId();
  const sequence = await queue.admit({ id, memberId: request.memberId }, limits);
  let job: JobRecord;
  try {
    const bound = bindRequest(workflows, defaultWorkflow, request);
    context.assertSomeServerCanRun({ workflow: bound.workflow.name, settings: bound.settings });
    const { workflow, settings, graph, applied } = bound;
    const record = { workflow: workflow.name, settings, graph, applied: { ...applied } };
    job = { ...createJobRecord(request, record, sequence), id };
    await write(repository, job);
  } catch (error) {
    await queue.withdraw(id);
    throw error;
  }
  await queue.push({ id, memberId: job.memberId, workflow: job.workflow, createdAt: job.createdAt });
  await context.queued(job);
  return job;
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
