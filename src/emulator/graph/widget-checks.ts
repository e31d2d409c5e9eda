/**
 * Widget (non-link) input checks of validate_inputs: Python's conversion to the declared type, then min / max and
 * combo membership, with ComfyUI's messages.
 */
import { comboOptions, type InputType } from '../nodes/node-info.js';
import { pyRepr, pyStr } from '../server/py-json.js';
import { pyBool, pyFloat, pyInt, pyNumber } from './py-coerce.js';
import { asPythonError, isRecord, type ValidationError } from './validation-types.js';

/** How an input was declared: its type and options (ComfyUI's `input_config`). */
export type InputInfo = readonly [InputType, Readonly<Record<string, unknown>>];

/** Converts a widget value in place and checks its range; undefined when it is fine. */
export function checkWidget(
  inputs: Record<string, unknown>,
  name: string,
  info: InputInfo,
  customValidated: boolean,
): ValidationError | undefined {
  const type = info[0];
  let value = inputs[name];
  try {
    if (isRecord(value) && '__value__' in value) value = inputs[name] = value['__value__'];
    value = convert(type, value);
    if (type === 'INT' || type === 'FLOAT' || type === 'STRING' || type === 'BOOLEAN') inputs[name] = value;
  } catch (error) {
    const python = asPythonError(error);
    return {
      type: 'invalid_input_type',
      message: `Failed to convert an input value to a ${typeText(type)} value`,
      details: `${name}, ${pyStr(value)}, ${python.message}`,
      extra_info: { input_name: name, input_config: info, received_value: value, exception_message: python.message },
    };
  }
  return customValidated ? undefined : checkRange(name, value, info);
}

function convert(type: InputType, value: unknown): unknown {
  if (type === 'INT') return pyInt(value);
  if (type === 'FLOAT') return pyFloat(value);
  if (type === 'STRING') return pyStr(value);
  if (type === 'BOOLEAN') return pyBool(value);
  return value;
}

function checkRange(name: string, value: unknown, info: InputInfo): ValidationError | undefined {
  const [type, options] = info;
  const asFloat = type === 'FLOAT';
  const min = options['min'];
  const max = options['max'];
  if (typeof min === 'number' && typeof value === 'number' && value < min) {
    const message = `Value ${pyNumber(value, asFloat)} smaller than min of ${pyNumber(min, asFloat)}`;
    return { type: 'value_smaller_than_min', message, details: name, extra_info: rangeInfo(name, info, value) };
  }
  if (typeof max === 'number' && typeof value === 'number' && value > max) {
    const message = `Value ${pyNumber(value, asFloat)} bigger than max of ${pyNumber(max, asFloat)}`;
    return { type: 'value_bigger_than_max', message, details: name, extra_info: rangeInfo(name, info, value) };
  }
  // A V1 combo is a list type; a V3 combo is `COMBO` with its list in `options`.
  const choices = comboOptions(info);
  if (choices && !choices.some((option) => option === value)) {
    // Like ComfyUI, long lists (scanned model folders) are not echoed back.
    const long = choices.length > 20;
    const listText = long ? `(list of length ${choices.length})` : pyRepr(choices);
    return {
      type: 'value_not_in_list',
      message: 'Value not in list',
      details: `${name}: '${pyStr(value)}' not in ${listText}`,
      extra_info: { input_name: name, input_config: long ? null : info, received_value: value },
    };
  }
  return undefined;
}

function rangeInfo(name: string, info: InputInfo, value: unknown): Record<string, unknown> {
  return { input_name: name, input_config: info, received_value: value };
}

function typeText(type: InputType): string {
  return typeof type === 'string' ? type : pyRepr(type);
}
