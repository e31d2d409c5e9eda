import { ComponentType } from 'discord.js';
import { describe, expect, it } from 'vitest';
import { modalProblems } from './modal-check.js';

const textInput = { type: ComponentType.TextInput, custom_id: 'prompt', style: 2, max_length: 4000, value: 'a fox' };
const label = (component: Record<string, unknown>, text = 'Prompt') => ({
  type: ComponentType.Label,
  label: text,
  component,
});
const modal = (...components: unknown[]) => ({ custom_id: 'edit:1', title: 'Edit', components });
const select = {
  type: ComponentType.StringSelect,
  custom_id: 'aspect',
  required: false,
  min_values: 0,
  max_values: 1,
  options: [
    { label: '1:1', value: '1:1' },
    { label: '16:9', value: '16:9' },
  ],
};
const upload = { type: ComponentType.FileUpload, custom_id: 'image', min_values: 0, max_values: 1, required: false };

describe('modal checks, as Discord makes them', () => {
  it('accepts labels around a text input, a select and a file upload, and a legacy row with a labelled input', () => {
    const legacy = {
      type: ComponentType.ActionRow,
      components: [{ ...textInput, custom_id: 'old', label: 'Old style' }],
    };
    expect(modalProblems(modal(label(textInput), label(select, 'Aspect'), label(upload, 'Image'), legacy))).toEqual([]);
  });

  it.each([
    ['six components', modal(...Array.from({ length: 6 }, (_, i) => label({ ...textInput, custom_id: `p${i}` })))],
    ['no components', modal()],
    ['a title over 45 characters', { ...modal(label(textInput)), title: 'x'.repeat(46) }],
    ['a label over 45 characters', modal(label(textInput, 'x'.repeat(46)))],
    ['a text input with its own label inside a Label', modal(label({ ...textInput, label: 'Prompt' }))],
    ['a legacy row whose input has no label', modal({ type: ComponentType.ActionRow, components: [textInput] })],
    ['a pre-filled value longer than max_length', modal(label({ ...textInput, max_length: 3 }))],
    ['duplicate custom ids', modal(label(textInput), label({ ...textInput }, 'Again'))],
    ['a disabled select', modal(label({ ...select, disabled: true }, 'Aspect'))],
    ['a select with no options', modal(label({ ...select, options: [] }, 'Aspect'))],
    ['a select allowing more values than options', modal(label({ ...select, max_values: 3 }, 'Aspect'))],
    ['a file upload taking eleven files', modal(label({ ...upload, max_values: 11 }, 'Image'))],
    ['a button', modal(label({ type: ComponentType.Button, custom_id: 'b', style: 1, label: 'Go' }))],
    ['a label without a component', modal({ type: ComponentType.Label, label: 'Empty' })],
  ])('refuses %s', (_what, data) => {
    expect(modalProblems(data as Record<string, unknown>)).not.toEqual([]);
  });
});
