/**
 * Sentences about answers a ComfyUI server gave but the client cannot use: the field's path and what it held
 * (`history.<id>.outputs is a string`), for the log and the operator. Such a server answered: it is never reported as
 * unreachable.
 */
import type { z } from 'zod';

/** `a number`, `a list`, `null`… for sentences about what a server sent. */
export function describeJsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'number') return 'a number';
  if (typeof value === 'boolean') return 'a boolean';
  return 'missing';
}

/**
 * The first problem zod found in a body, as `<root>.<path> is <what it held>` (`history.abc.outputs is a string`);
 * `root` names the body (`history`, `queue`), and the expected shape is added when zod says what it wanted.
 */
export function describeBodyProblem(root: string, body: unknown, issues: readonly z.core.$ZodIssue[]): string {
  const issue = issues[0];
  if (issue === undefined) return `${root || 'the body'} could not be read`;
  let value: unknown = body;
  for (const key of issue.path) {
    value = typeof value === 'object' && value !== null ? (value as Record<PropertyKey, unknown>)[key] : undefined;
  }
  const path = [root, ...issue.path.map(String)].filter(Boolean).join('.') || 'the body';
  const expected = issue.code === 'invalid_type' ? `, not ${article(issue.expected)}` : '';
  return `${path} is ${describeJsonType(value)}${expected}`;
}

function article(expected: string): string {
  const names: Record<string, string> = {
    array: 'a list',
    object: 'an object',
    record: 'an object',
    string: 'a string',
    number: 'a number',
    boolean: 'a boolean',
    tuple: 'a list',
  };
  return names[expected] ?? expected;
}
