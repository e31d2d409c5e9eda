import type { Channel } from 'discord.js';
import { isAgeRestricted } from './access.js';
import type { BotServices } from './services.js';
import type { PlanContext } from '../workflows/generation-plan.js';

/** The planning context of a request made in `channel`. */
export function planContext(services: BotServices, channel: Channel | null): PlanContext {
  return {
    workflows: services.workflows,
    defaultWorkflow: services.config.workflows.defaultWorkflow,
    maxPromptLength: services.config.limits.promptLength,
    ageRestricted: isAgeRestricted(channel),
    models: services.models,
  };
}
