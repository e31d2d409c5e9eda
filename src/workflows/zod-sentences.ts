/**
 * Turns zod's issues into sentences an operator can act on, naming the file and the field:
 * `sdxl.manifest.json: settings.steps.max must be a number, not a string.`
 */
import type { z } from 'zod';

type Issue = z.core.$ZodIssue;

/** One sentence per problem, each starting with the file name. */
export function describeZodError(file: string, error: z.ZodError): string[] {
  return error.issues.map((issue) => `${file}: ${describeIssue(issue, [])}`);
}

/** One sentence for one issue, starting with the field: `count must be at most 4`. */
export function describeZodIssue(issue: Issue): string {
  return describeIssue(issue, []);
}

function describeIssue(issue: Issue, parentPath: readonly PropertyKey[]): string {
  const path = [...parentPath, ...issue.path];
  const field = path.length === 0 ? 'the file' : formatPath(path);
  switch (issue.code) {
    case 'invalid_union':
      return describeUnion(issue, path, field);
    case 'invalid_type':
      // z.never() carries our own sentence ("is not allowed: ...").
      if (issue.expected === 'never') return `${field} ${issue.message}`;
      return issue.input === undefined
        ? `${field} is missing`
        : `${field} must be ${article(issue.expected)}, not ${typeName(issue.input)}`;
    case 'unrecognized_keys':
      return `${field} has unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((key) => `"${key}"`).join(', ')}`;
    case 'too_small':
      return tooSmall(field, issue);
    case 'too_big':
      return tooBig(field, issue);
    case 'invalid_value':
      return `${field} must be ${issue.values.map((value) => JSON.stringify(value)).join(' or ')}`;
    case 'not_multiple_of':
      return `${field} must be a multiple of ${issue.divisor}`;
    default:
      return `${field} ${issue.message}`;
  }
}

// A union (false | object, string | list) fails in every branch; the branch that got furthest is the one meant.
// When none got anywhere, the value has the wrong form altogether: say which forms would do.
function describeUnion(issue: Extract<Issue, { code: 'invalid_union' }>, path: PropertyKey[], field: string): string {
  const branches = issue.errors.filter((branch) => branch.length > 0);
  const best = [...branches].sort((a, b) => depth(b) - depth(a) || a.length - b.length)[0];
  if (best && depth(best) > 0) return best.map((inner) => describeIssue(inner, path)).join('; ');
  if (issue.message !== 'Invalid input') return `${field} ${issue.message}`;
  const forms = branches.flatMap((branch) => branch.map(formOf)).filter((form) => form !== undefined);
  return forms.length > 0 ? `${field} must be ${[...new Set(forms)].join(' or ')}` : `${field} ${issue.message}`;
}

function formOf(issue: Issue): string | undefined {
  if (issue.code === 'invalid_type') return article(issue.expected === 'array' ? 'list' : issue.expected);
  if (issue.code === 'invalid_value') return issue.values.map((value) => JSON.stringify(value)).join(' or ');
  return undefined;
}

// How far a branch got: the depth of its issues, where a wrong type or literal at the top counts as nowhere.
function depth(issues: readonly Issue[]): number {
  const wrongForm = (issue: Issue): boolean => issue.code === 'invalid_type' || issue.code === 'invalid_value';
  return Math.max(...issues.map((issue) => issue.path.length + (wrongForm(issue) ? 0 : 0.5)));
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((text, key) => {
    if (typeof key === 'number') return `${text}[${key}]`;
    return text === '' ? String(key) : `${text}.${String(key)}`;
  }, '');
}

function tooSmall(field: string, issue: Extract<Issue, { code: 'too_small' }>): string {
  const minimum = String(issue.minimum);
  if (issue.origin === 'array' || issue.origin === 'set') {
    return `${field} must have at least ${minimum} ${minimum === '1' ? 'entry' : 'entries'}`;
  }
  return issue.origin === 'string'
    ? `${field} must be at least ${minimum} characters long`
    : `${field} must be at least ${minimum}`;
}

function tooBig(field: string, issue: Extract<Issue, { code: 'too_big' }>): string {
  const maximum = String(issue.maximum);
  if (issue.origin === 'array' || issue.origin === 'set') return `${field} must have at most ${maximum} entries`;
  return issue.origin === 'string'
    ? `${field} must be at most ${maximum} characters long`
    : `${field} must be at most ${maximum}`;
}

function article(expected: string): string {
  const word = expected === 'int' ? 'whole number' : expected;
  return /^[aeiou]/.test(word) ? `an ${word}` : `a ${word}`;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return `the text ${JSON.stringify(value)}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${JSON.stringify(value)}`;
}
