/**
 * The Edit button's form (the remix form), built with Discord's 2025 modal components: a Label around each input —
 * the prompt, the negative prompt, the aspect ratio (a select), the seed, and a file upload to start image-to-image
 * from an image of the member's. Its custom id names the generation (`edit:<id>`), so a form opened before a restart
 * still submits; inputs an older form lacks are read as unchanged.
 */
import {
  ComponentType,
  TextInputStyle,
  type APIModalInteractionResponseCallbackData,
  type Attachment,
  type ModalSubmitInteraction,
} from 'discord.js';
import { UserFacingError } from '../errors.js';
import { text, type TextKey } from '../i18n/catalog.js';
import type { Generation } from '../sessions/index.js';
import { ASPECT_CHOICES, MAX_SEED } from '../workflows/settings.js';
import { buttonId } from './cards.js';

/** What the member asked for in the form. */
export interface EditFormValues {
  readonly prompt: string;
  readonly negative: string;
  /** The chosen ratio, or undefined to keep the generation's size. */
  readonly aspect?: string | undefined;
  /** The seed typed, or undefined (left empty) for a new one. */
  readonly seed?: number | undefined;
  /** An image to start image-to-image from. */
  readonly upload?: Attachment | undefined;
}

const PROMPT_LIMIT = 4000;
const NEGATIVE_LIMIT = 2000;

/** The form, pre-filled from the generation, in the member's language. */
export function editForm(generation: Generation, locale: string): APIModalInteractionResponseCallbackData {
  const say = (key: TextKey) => text(locale, key);
  const { settings } = generation;
  const label = (key: TextKey, component: Record<string, unknown>, description?: TextKey) => ({
    type: ComponentType.Label,
    label: say(key),
    ...(description ? { description: say(description) } : {}),
    component,
  });
  const components = [
    label('modal.edit.prompt', {
      type: ComponentType.TextInput,
      custom_id: 'prompt',
      style: TextInputStyle.Paragraph,
      max_length: PROMPT_LIMIT,
      required: true,
      // Discord refuses an empty pre-filled value; a prompt-less generation (an upscale) shows one space.
      value: settings.prompt.slice(0, PROMPT_LIMIT) || ' ',
    }),
    label('modal.edit.negative', {
      type: ComponentType.TextInput,
      custom_id: 'negative',
      style: TextInputStyle.Paragraph,
      max_length: NEGATIVE_LIMIT,
      required: false,
      ...(settings.negative ? { value: settings.negative.slice(0, NEGATIVE_LIMIT) } : {}),
    }),
    label('modal.edit.aspect', {
      type: ComponentType.StringSelect,
      custom_id: 'aspect',
      required: false,
      min_values: 0,
      max_values: 1,
      placeholder: say('modal.edit.aspectKeep'),
      options: ASPECT_CHOICES.map((aspect) => ({
        label: text(locale, `choice.aspect.${aspect}` satisfies TextKey),
        value: aspect,
        ...(settings.aspect === aspect ? { default: true } : {}),
      })),
    }),
    label(
      'modal.edit.seed',
      {
        type: ComponentType.TextInput,
        custom_id: 'seed',
        style: TextInputStyle.Short,
        max_length: String(MAX_SEED).length,
        required: false,
        ...(settings.seed === undefined ? {} : { value: String(settings.seed) }),
      },
      'modal.edit.seedHint',
    ),
    label(
      'modal.edit.image',
      { type: ComponentType.FileUpload, custom_id: 'image', required: false, min_values: 0, max_values: 1 },
      'modal.edit.imageHint',
    ),
  ];
  return {
    custom_id: buttonId('edit', generation.id),
    title: say('modal.edit.title'),
    components: components as unknown as APIModalInteractionResponseCallbackData['components'],
  };
}

/** Reads the submitted form; a seed that is not a whole number in range is refused with one sentence. */
export function readEditForm(interaction: ModalSubmitInteraction): EditFormValues {
  const { fields } = interaction;
  const has = (id: string) => fields.fields.has(id);
  const seedText = has('seed') ? fields.getTextInputValue('seed').trim() : '';
  const aspect = has('aspect') ? fields.getStringSelectValues('aspect')[0] : undefined;
  const upload = has('image') ? fields.getUploadedFiles('image')?.first() : undefined;
  return {
    prompt: fields.getTextInputValue('prompt'),
    negative: fields.getTextInputValue('negative').trim(),
    aspect: aspect && (ASPECT_CHOICES as readonly string[]).includes(aspect) ? aspect : undefined,
    seed: seedText === '' ? undefined : parseSeed(seedText),
    upload,
  };
}

function parseSeed(typed: string): number {
  const seed = /^\d+$/.test(typed) ? Number(typed) : Number.NaN;
  if (!Number.isSafeInteger(seed) || seed > MAX_SEED) {
    throw new UserFacingError(
      'bad-seed',
      `The seed must be a whole number from 0 to ${MAX_SEED}; leave it empty for a new one.`,
      { params: { max: MAX_SEED } },
    );
  }
  return seed;
}
