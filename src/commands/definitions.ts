/**
 * The slash commands as Discord registers them: plain JSON, one constant per command. `deploy-commands` sends exactly
 * these, and the router dispatches on the same names, so the two can never drift.
 */
import {
  ApplicationCommandOptionType,
  ApplicationIntegrationType,
  InteractionContextType,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord.js';
import { ENGLISH, type TextKey } from '../i18n/catalog.js';
import { ASPECT_CHOICES, MAX_COUNT, MAX_SEED } from '../workflows/settings.js';

// Installed to a server (the bot joins it) or to a member's account (a user install: the commands follow the member
// into servers without the bot, DMs and group DMs, where the interaction's webhook alone answers; see README).
const CONTEXTS = [InteractionContextType.Guild, InteractionContextType.BotDM, InteractionContextType.PrivateChannel];
const INSTALL = [ApplicationIntegrationType.GuildInstall, ApplicationIntegrationType.UserInstall];

/** An aspect ratio as a choice, named with what it looks like (`16:9 widescreen`); translated in src/i18n. */
function aspectChoice(aspect: (typeof ASPECT_CHOICES)[number]) {
  return { name: ENGLISH[`choice.aspect.${aspect}` satisfies TextKey], value: aspect };
}

export const imagineDefinition = {
  name: 'imagine',
  description: 'Generate an image from a prompt (flags like --ar 16:9 --seed 42 --no trees work too)',
  contexts: CONTEXTS,
  integration_types: INSTALL,
  options: [
    {
      type: ApplicationCommandOptionType.String,
      name: 'prompt',
      description: 'What to draw',
      required: true,
      max_length: 6000,
    },
    {
      type: ApplicationCommandOptionType.String,
      name: 'negative',
      description: 'What to keep out of the picture',
      max_length: 2000,
    },
    {
      type: ApplicationCommandOptionType.String,
      name: 'workflow',
      description: 'Which workflow to run',
      autocomplete: true,
    },
    {
      type: ApplicationCommandOptionType.String,
      name: 'aspect',
      description: 'Aspect ratio',
      choices: ASPECT_CHOICES.map(aspectChoice),
    },
    {
      type: ApplicationCommandOptionType.Integer,
      name: 'seed',
      description: 'Seed, for a repeatable picture',
      min_value: 0,
      max_value: MAX_SEED,
    },
    {
      type: ApplicationCommandOptionType.Integer,
      name: 'count',
      description: 'How many images',
      min_value: 1,
      max_value: MAX_COUNT,
    },
    {
      type: ApplicationCommandOptionType.Attachment,
      name: 'image',
      description: 'Start from this image (image-to-image)',
    },
    {
      type: ApplicationCommandOptionType.String,
      name: 'model',
      description: 'Which model (checkpoint) to draw with',
      autocomplete: true,
    },
    {
      type: ApplicationCommandOptionType.String,
      name: 'lora',
      description: 'A LoRA to apply, with an optional weight (detail:0.8); more with --lora in the prompt',
      autocomplete: true,
    },
  ],
} as const satisfies RESTPostAPIChatInputApplicationCommandsJSONBody;

export const settingsDefinition = {
  name: 'settings',
  description: 'View or change your defaults for /imagine',
  contexts: CONTEXTS,
  integration_types: INSTALL,
  options: [
    {
      type: ApplicationCommandOptionType.String,
      name: 'workflow',
      description: 'Default workflow',
      autocomplete: true,
    },
    {
      type: ApplicationCommandOptionType.String,
      name: 'aspect',
      description: 'Default aspect ratio',
      choices: ASPECT_CHOICES.map(aspectChoice),
    },
    {
      type: ApplicationCommandOptionType.String,
      name: 'negative',
      description: 'Default negative prompt',
      max_length: 2000,
    },
    {
      type: ApplicationCommandOptionType.Integer,
      name: 'count',
      description: 'Default number of images',
      min_value: 1,
      max_value: MAX_COUNT,
    },
    {
      type: ApplicationCommandOptionType.String,
      name: 'model',
      description: 'Default model, where a workflow can use it ("none": each workflow\'s own)',
      autocomplete: true,
    },
    { type: ApplicationCommandOptionType.Boolean, name: 'reset', description: 'Forget all your defaults' },
  ],
} as const satisfies RESTPostAPIChatInputApplicationCommandsJSONBody;

export const historyDefinition = {
  name: 'history',
  description: 'Your recent generations, with seeds and links',
  contexts: CONTEXTS,
  integration_types: INSTALL,
  options: [{ type: ApplicationCommandOptionType.User, name: 'member', description: 'Whose history (default: yours)' }],
} as const satisfies RESTPostAPIChatInputApplicationCommandsJSONBody;

export const queueDefinition = {
  name: 'queue',
  description: 'Your jobs and the state of the image servers',
  contexts: CONTEXTS,
  integration_types: INSTALL,
} as const satisfies RESTPostAPIChatInputApplicationCommandsJSONBody;

export const workflowsDefinition = {
  name: 'workflows',
  description: 'The workflows you can use and the settings each accepts',
  contexts: CONTEXTS,
  integration_types: INSTALL,
} as const satisfies RESTPostAPIChatInputApplicationCommandsJSONBody;
