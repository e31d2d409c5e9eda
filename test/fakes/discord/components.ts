/**
 * Finding components in a message or modal (action rows, Components V2 containers, sections and labels), and
 * building the `components` of a modal submission from the modal the bot showed.
 */

type Component = Record<string, unknown>;

function children(component: Component): Component[] {
  const nested = Array.isArray(component.components) ? (component.components as Component[]) : [];
  const single = [component.component, component.accessory].filter(
    (c): c is Component => typeof c === 'object' && c !== null,
  );
  return [...nested, ...single];
}

/** The component with this `custom_id`, searched depth-first. */
export function findComponent(components: readonly unknown[], customId: string): Component | undefined {
  for (const component of components as Component[]) {
    if (component.custom_id === customId) return component;
    const found = findComponent(children(component), customId);
    if (found) return found;
  }
  return undefined;
}

const TEXT_INPUT = 4;
const STRING_SELECT = 3;
const FILE_UPLOAD = 19;
const LABEL = 18;
const ACTION_ROW = 1;

/**
 * What a member typed or picked in a modal, by input `custom_id`: text, the values picked in a select, or files for a
 * file upload (the fake stores them as attachments and submits their ids).
 */
export type ModalValues = Readonly<Record<string, string | readonly string[] | readonly ModalFile[]>>;

/** A file a member puts in a modal's file upload. */
export interface ModalFile {
  readonly name: string;
  readonly data: Buffer | Uint8Array | string;
  readonly contentType?: string;
}

/**
 * The submitted `components`, mirroring the modal's layout (action rows or labels) as Discord does. `values` here holds
 * text and picked values only; file uploads come as the ids of the stored attachments. What a member could not submit
 * (a required input left empty, a value a select does not offer, too many files) throws.
 */
export function modalSubmission(
  modalComponents: readonly unknown[],
  values: Readonly<Record<string, string | readonly string[]>>,
): Component[] {
  const used = new Set<string>();
  const submit = (input: Component): Component => {
    const customId = String(input.custom_id);
    used.add(customId);
    const value = values[customId];
    if (input.type === TEXT_INPUT) return { type: TEXT_INPUT, custom_id: customId, value: textValue(input, value) };
    const picked = Array.isArray(value) ? [...(value as string[])] : typeof value === 'string' ? [value] : [];
    checkPicked(input, picked);
    return { type: input.type, ...idField(input), custom_id: customId, values: picked };
  };
  const submitted = (modalComponents as Component[]).flatMap((component): Component[] => {
    if (component.type === ACTION_ROW) {
      return [{ type: ACTION_ROW, components: children(component).map(submit) }];
    }
    if (component.type === LABEL && typeof component.component === 'object' && component.component !== null) {
      return [{ type: LABEL, ...idField(component), component: submit(component.component as Component) }];
    }
    return [];
  });
  const unknown = Object.keys(values).filter((id) => !used.has(id));
  if (unknown.length > 0) throw new Error(`the modal has no input(s) ${unknown.join(', ')}`);
  return submitted;
}

/** The custom ids of a modal's file uploads. */
export function fileUploadIds(modalComponents: readonly unknown[]): string[] {
  return (modalComponents as Component[]).flatMap((component) => {
    const inner = component.component as Component | undefined;
    return component.type === LABEL && inner?.type === FILE_UPLOAD ? [String(inner.custom_id)] : [];
  });
}

/** Selects and file uploads: Discord's client lets a member submit only what the component allows. */
function checkPicked(input: Component, picked: readonly string[]): void {
  const id = String(input.custom_id);
  const required = input.required !== false;
  const min = typeof input.min_values === 'number' ? input.min_values : 1;
  const max = typeof input.max_values === 'number' ? input.max_values : 1;
  if (picked.length === 0 && !required) return;
  if (picked.length === 0) throw new Error(`modal input ${id} is required`);
  if (picked.length < min || picked.length > max) {
    throw new Error(`modal input ${id} takes ${min} to ${max} values, not ${picked.length}`);
  }
  if (input.type === STRING_SELECT) {
    const offered = ((input.options ?? []) as { value: string }[]).map((option) => option.value);
    const wrong = picked.filter((value) => !offered.includes(value));
    if (wrong.length > 0) throw new Error(`select ${id} does not offer ${wrong.join(', ')}`);
  }
}

function idField(component: Component) {
  return typeof component.id === 'number' ? { id: component.id } : {};
}

function textValue(input: Component, given: string | readonly string[] | undefined): string {
  const value = typeof given === 'string' ? given : typeof input.value === 'string' ? input.value : '';
  const id = String(input.custom_id);
  if (input.required !== false && value.length === 0) throw new Error(`modal input ${id} is required`);
  const min = typeof input.min_length === 'number' ? input.min_length : 0;
  const max = typeof input.max_length === 'number' ? input.max_length : 4000;
  if (value.length > 0 && (value.length < min || value.length > max)) {
    throw new Error(`modal input ${id} takes ${min} to ${max} characters, not ${value.length}`);
  }
  return value;
}
