/**
 * The limits a job must pass before it is queued, each refused with a sentence a member understands.
 */
import { UserFacingError } from '../errors.js';
import { sentence } from '../i18n/catalog.js';

/** How much the runner accepts. */
export interface JobLimits {
  /** Jobs one member may have waiting or running at once. */
  readonly jobsPerMember: number;
  /** Jobs that may wait in the bot's queue, all members together. */
  readonly queueLength: number;
}

/** The defaults: two images in flight per member, a hundred waiting in all. */
export const DEFAULT_LIMITS: JobLimits = { jobsPerMember: 2, queueLength: 100 };

/** What the limits are checked against. */
export interface JobCounts {
  /** The member's jobs that are not finished (waiting, submitted, running, or being created). */
  readonly memberInFlight: number;
  /** Jobs waiting in the bot's queue. */
  readonly waiting: number;
}

/** Throws the `UserFacingError` of the first limit a new job would break. */
export function checkLimits(limits: JobLimits, counts: JobCounts): void {
  if (counts.memberInFlight >= limits.jobsPerMember) {
    const said =
      limits.jobsPerMember === 1
        ? sentence('limit.memberOne')
        : sentence('limit.memberMany', { count: limits.jobsPerMember });
    throw new UserFacingError('member-limit', said, {
      detail: `member has ${counts.memberInFlight} jobs in flight (limit ${limits.jobsPerMember})`,
    });
  }
  if (counts.waiting >= limits.queueLength) {
    throw new UserFacingError('queue-full', sentence('limit.queueFull', { count: limits.queueLength }), {
      detail: `${counts.waiting} jobs waiting (limit ${limits.queueLength})`,
    });
  }
}
