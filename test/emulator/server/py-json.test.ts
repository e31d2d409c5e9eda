import { describe, expect, it } from 'vitest';
import { pyJson, pyRepr } from '../../../src/emulator/server/py-json.js';

describe('Python-compatible text', () => {
  it('serialises like json.dumps with default separators and ASCII escapes', () => {
    expect(pyJson({ a: [1, 2.5, null, true], é: 'ü' })).toBe('{"a": [1, 2.5, null, true], "\\u00e9": "\\u00fc"}');
  });

  it('formats like repr(), switching quotes when the text holds a single quote', () => {
    const graph = { '1': { class_type: "it's", inputs: { w: 1.5, b: null, t: true } } };
    expect(pyRepr(graph)).toBe(`{'1': {'class_type': "it's", 'inputs': {'w': 1.5, 'b': None, 't': True}}}`);
  });
});
