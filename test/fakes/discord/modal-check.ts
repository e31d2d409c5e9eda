/**
 * Discord's checks of a modal (interaction callback type 9), with its 2025 components: up to 5 top-level components,
 * each a Label (a 1–45 character label, an optional description, one text input, select or file upload), a Text
 * Display, or a legacy action row holding one labelled text input; custom ids unique; each component within its limits.
 * A broken modal is refused with 400 50035 and the offending path, as Discord does.
 */
import { ComponentType, TextInputStyle } from 'discord.js';
import type { FieldProblem } from './message-body.js';

type Component = Record<string, unknown>;
type Path = (string | number)[];

const SELECTS: readonly number[] = [
  ComponentType.StringSelect,
  ComponentType.UserSelect,
  ComponentType.RoleSelect,
  ComponentType.MentionableSelect,
  ComponentType.ChannelSelect,
];

/** The problems of a modal's `data`, empty when Discord would show it. */
export function modalProblems(data: Component | null): FieldProblem[] {
  if (!data) return [problem(['data'], 'BASE_TYPE_REQUIRED', 'This field is required')];
  const problems: FieldProblem[] = [];
  problems.push(...stringProblems(data.custom_id, ['data', 'custom_id'], 1, 100, true));
  problems.push(...stringProblems(data.title, ['data', 'title'], 1, 45, true));
  const components = Array.isArray(data.components) ? (data.components as Component[]) : [];
  if (components.length < 1 || components.length > 5) {
    problems.push(problem(['data', 'components'], 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 5 in length.'));
  }
  const ids = new Set<string>();
  for (const [index, component] of components.entries()) {
    problems.push(...topLevelProblems(component, ['data', 'components', index], ids));
  }
  return problems;
}

function topLevelProblems(component: Component, path: Path, ids: Set<string>): FieldProblem[] {
  switch (component.type) {
    case ComponentType.Label: {
      const inner = component.component;
      const problems = [
        ...stringProblems(component.label, [...path, 'label'], 1, 45, true),
        ...stringProblems(component.description, [...path, 'description'], 1, 100, false),
      ];
      if (typeof inner !== 'object' || inner === null) {
        return [...problems, problem([...path, 'component'], 'BASE_TYPE_REQUIRED', 'This field is required')];
      }
      return [...problems, ...inputProblems(inner as Component, [...path, 'component'], ids, true)];
    }
    case ComponentType.TextDisplay:
      return stringProblems(component.content, [...path, 'content'], 1, 4000, true);
    case ComponentType.ActionRow: {
      const children = Array.isArray(component.components) ? (component.components as Component[]) : [];
      const only = children[0];
      if (children.length !== 1 || only?.type !== ComponentType.TextInput) {
        return [
          problem([...path, 'components'], 'UNION_TYPE_CHOICES', 'An action row in a modal holds one text input.'),
        ];
      }
      return inputProblems(only, [...path, 'components', 0], ids, false);
    }
    default:
      return [
        problem(
          [...path, 'type'],
          'UNION_TYPE_CHOICES',
          `Component type ${String(component.type)} is not allowed in a modal.`,
        ),
      ];
  }
}

function inputProblems(input: Component, path: Path, ids: Set<string>, inLabel: boolean): FieldProblem[] {
  const problems = stringProblems(input.custom_id, [...path, 'custom_id'], 1, 100, true);
  const id = String(input.custom_id);
  if (ids.has(id))
    problems.push(
      problem([...path, 'custom_id'], 'COMPONENT_CUSTOM_ID_DUPLICATED', 'Component custom id cannot be duplicated'),
    );
  ids.add(id);
  if (input.type === ComponentType.TextInput) return [...problems, ...textInputProblems(input, path, inLabel)];
  if (!inLabel)
    return [...problems, problem([...path, 'type'], 'UNION_TYPE_CHOICES', 'Only a text input may sit in a row.')];
  if (SELECTS.includes(Number(input.type))) return [...problems, ...selectProblems(input, path)];
  if (input.type === ComponentType.FileUpload) return [...problems, ...fileUploadProblems(input, path)];
  return [
    ...problems,
    problem([...path, 'type'], 'UNION_TYPE_CHOICES', `Component type ${String(input.type)} cannot be in a label.`),
  ];
}

function textInputProblems(input: Component, path: Path, inLabel: boolean): FieldProblem[] {
  const problems: FieldProblem[] = [];
  if (input.style !== TextInputStyle.Short && input.style !== TextInputStyle.Paragraph) {
    problems.push(problem([...path, 'style'], 'BASE_TYPE_CHOICES', 'Value must be one of (1, 2).'));
  }
  // In a Label the label is the Label's; a text input of its own label is refused there, and needed in a row.
  if (inLabel && input.label !== undefined) {
    problems.push(problem([...path, 'label'], 'COMPONENT_LABEL_INVALID', 'A text input in a label has no label.'));
  }
  if (!inLabel) problems.push(...stringProblems(input.label, [...path, 'label'], 1, 45, true));
  const min = numberOr(input.min_length, 0);
  const max = numberOr(input.max_length, 4000);
  if (min < 0 || min > 4000) problems.push(range([...path, 'min_length'], 0, 4000));
  if (max < 1 || max > 4000) problems.push(range([...path, 'max_length'], 1, 4000));
  if (min > max) problems.push(problem([...path, 'min_length'], 'BASE_TYPE_BAD_INT', 'min_length exceeds max_length.'));
  problems.push(...stringProblems(input.value, [...path, 'value'], 0, Math.min(max, 4000), false));
  problems.push(...stringProblems(input.placeholder, [...path, 'placeholder'], 0, 100, false));
  return problems;
}

function selectProblems(select: Component, path: Path): FieldProblem[] {
  const problems: FieldProblem[] = [];
  if (select.disabled === true) {
    problems.push(
      problem([...path, 'disabled'], 'COMPONENT_DISABLED_IN_MODAL', 'A select in a modal cannot be disabled.'),
    );
  }
  problems.push(...stringProblems(select.placeholder, [...path, 'placeholder'], 0, 150, false));
  const options = Array.isArray(select.options) ? (select.options as Component[]) : [];
  if (select.type === ComponentType.StringSelect && (options.length < 1 || options.length > 25)) {
    problems.push(problem([...path, 'options'], 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 25 in length.'));
  }
  const values = new Set<string>();
  for (const [index, option] of options.entries()) {
    const at = [...path, 'options', index];
    problems.push(...stringProblems(option.label, [...at, 'label'], 1, 100, true));
    problems.push(...stringProblems(option.value, [...at, 'value'], 1, 100, true));
    problems.push(...stringProblems(option.description, [...at, 'description'], 0, 100, false));
    if (values.has(String(option.value)))
      problems.push(problem([...at, 'value'], 'SELECT_COMPONENT_OPTION_VALUE_DUPLICATED', 'Duplicate value.'));
    values.add(String(option.value));
  }
  const min = numberOr(select.min_values, 1);
  const max = numberOr(select.max_values, 1);
  if (min < 0 || min > 25) problems.push(range([...path, 'min_values'], 0, 25));
  if (max < 1 || max > 25) problems.push(range([...path, 'max_values'], 1, 25));
  if (min > max || (options.length > 0 && max > options.length)) {
    problems.push(
      problem(
        [...path, 'max_values'],
        'BASE_TYPE_BAD_INT',
        'max_values must be between min_values and the number of options.',
      ),
    );
  }
  const defaults = options.filter((option) => option.default === true).length;
  if (defaults > max)
    problems.push(
      problem([...path, 'options'], 'SELECT_COMPONENT_TOO_MANY_DEFAULT_VALUES', 'Too many default options.'),
    );
  return problems;
}

function fileUploadProblems(upload: Component, path: Path): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const min = numberOr(upload.min_values, 1);
  const max = numberOr(upload.max_values, 1);
  if (min < 0 || min > 10) problems.push(range([...path, 'min_values'], 0, 10));
  if (max < 1 || max > 10) problems.push(range([...path, 'max_values'], 1, 10));
  if (min > max) problems.push(problem([...path, 'min_values'], 'BASE_TYPE_BAD_INT', 'min_values exceeds max_values.'));
  return problems;
}

function stringProblems(value: unknown, path: Path, min: number, max: number, required: boolean): FieldProblem[] {
  if (value === undefined || value === null) {
    return required ? [problem(path, 'BASE_TYPE_REQUIRED', 'This field is required')] : [];
  }
  if (typeof value !== 'string') return [problem(path, 'BASE_TYPE_STRING', 'Must be a string.')];
  if (value.length < min || value.length > max) {
    return [problem(path, 'BASE_TYPE_BAD_LENGTH', `Must be between ${min} and ${max} in length.`)];
  }
  return [];
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' ? value : fallback;
}

function range(path: Path, min: number, max: number): FieldProblem {
  return problem(path, 'NUMBER_TYPE_OUT_OF_RANGE', `Must be between ${min} and ${max}.`);
}

function problem(path: Path, code: string, message: string): FieldProblem {
  return { path, code, message };
}
