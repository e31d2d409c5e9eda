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
const LABEL = 18;
const ACTION_ROW = 1;

/** What a member typed or picked in a modal, by input `custom_id`. */
export type ModalValues = Readonly<Record<string, string | readonly string[]>>;

/** The submitted `components`, mirroring the modal's layout (action rows or labels) as Discord does. */
export function modalSubmission(modalComponents: readonly unknown[], values: ModalValues): Component[] {
  const used = new Set<string>();
  const submit = (input: Component): Component => {
    const customId = String(input.custom_id);
    used.add(customId);
    const value = values[customId];
    if (input.type === TEXT_INPUT) return { type: TEXT_INPUT, custom_id: customId, value: textValue(input, value) };
    return { type: input.type, custom_id: customId, values: Array.isArray(value) ? [...value] : value ? [value] : [] };
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
