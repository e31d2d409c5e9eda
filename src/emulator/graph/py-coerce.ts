/**
 * Python's int()/float()/str()/bool() conversions as ComfyUI's validator applies them to widget values, with
 * Python's own exception messages (they end up in `invalid_input_type` errors).
 */
import { pyRepr, pyStr } from '../server/py-json.js';

/** A Python exception: its class name and `str(exception)`. */
export class PythonError extends Error {
  override readonly name = 'PythonError';

  constructor(
    readonly exceptionType: string,
    message: string,
  ) {
    super(message);
  }
}

/** Python `int(value)`. */
export function pyInt(value: unknown): number {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number') {
    if (Number.isNaN(value)) throw new PythonError('ValueError', 'cannot convert float NaN to integer');
    if (!Number.isFinite(value)) throw new PythonError('OverflowError', 'cannot convert float infinity to integer');
    return Math.trunc(value);
  }
  if (typeof value === 'string') {
    const text = value.trim();
    if (/^[+-]?\d+(_\d+)*$/.test(text)) return Number(text.replaceAll('_', ''));
    throw new PythonError('ValueError', `invalid literal for int() with base 10: ${pyRepr(value)}`);
  }
  throw new PythonError(
    'TypeError',
    `int() argument must be a string, a bytes-like object or a real number, not '${pyTypeName(value)}'`,
  );
}

/** Python `float(value)`. */
export function pyFloat(value: unknown): number {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    const text = value.trim().replaceAll('_', '').toLowerCase();
    if (/^[+-]?(inf|infinity)$/.test(text)) return text.startsWith('-') ? -Infinity : Infinity;
    if (/^[+-]?nan$/.test(text)) return Number.NaN;
    if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(text)) return Number(text);
    throw new PythonError('ValueError', `could not convert string to float: ${pyRepr(value)}`);
  }
  throw new PythonError('TypeError', `float() argument must be a string or a real number, not '${pyTypeName(value)}'`);
}

/** Python `str(value)`. */
export function pyStrValue(value: unknown): string {
  return pyStr(value);
}

/** Python `bool(value)` (truthiness). */
export function pyBool(value: unknown): boolean {
  if (value === null || value === undefined) return false;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return Boolean(value);
}

/** Python's type name for a JSON value. */
export function pyTypeName(value: unknown): string {
  if (value === null || value === undefined) return 'NoneType';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  if (typeof value === 'string') return 'str';
  return Array.isArray(value) ? 'list' : 'dict';
}

/** Formats a number as Python's str() would for an int or a float. */
export function pyNumber(value: number, asFloat: boolean): string {
  if (!Number.isFinite(value)) return Number.isNaN(value) ? 'nan' : value > 0 ? 'inf' : '-inf';
  if (asFloat && Number.isInteger(value) && Math.abs(value) < 1e16) return `${value}.0`;
  return String(value);
}
