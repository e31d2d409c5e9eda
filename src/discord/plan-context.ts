import type { Channel } from 'discord.js';
import { isAgeRestricted } from './access.js';
import type { BotServices } from './services.js';
import type { PlanContext } from '../workflows/generation-plan.js';

/** The planning context of a request made in `channel`. */
export function planContext(services: BotServices, channel: Channel | null): PlanContext {
  return planContextOf(services, isAgeRestricted(channel));
}

/** The planning context of a request made where adult workflows may (or may not) run: a replay has no channel. */
export function planContextOf(services: BotServices, ageRestricted: boolean): PlanContext {
  return {
    workflows: services.workflows,
    defaultWorkflow: services.config.workflows.defaultWorkflow,
    maxPromptLength: services.config.limits.promptLength,
    ageRestricted,
    models: services.models,
  };
}
