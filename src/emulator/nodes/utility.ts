/**
 * Small utility nodes seen in the recordings: primitives and the TestSleep node of ComfyUI's test node pack.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { NodeClass } from './types.js';

/** PrimitiveString ("String"). */
export const primitiveString: NodeClass = {
  name: 'PrimitiveString',
  displayName: 'String',
  description: '',
  category: 'utils/primitive',
  pythonModule: 'comfy_extras.nodes_primitive',
  outputNode: false,
  returnTypes: ['STRING'],
  inputTypes: () => ({ required: { value: ['STRING', {}] } }),
  run: async (inputs) => ({ outputs: [inputs['value']] }),
};

/** PrimitiveInt ("Int"). */
export const primitiveInt: NodeClass = {
  name: 'PrimitiveInt',
  displayName: 'Int',
  description: '',
  category: 'utils/primitive',
  pythonModule: 'comfy_extras.nodes_primitive',
  outputNode: false,
  returnTypes: ['INT'],
  inputTypes: () => ({
    required: { value: ['INT', { min: -(2 ** 63), max: 2 ** 63, control_after_generate: true }] },
  }),
  run: async (inputs) => ({ outputs: [inputs['value']] }),
};

const SLEEP_TICK_MS = 10;

/** TestSleep: passes its value through after `seconds` of real time, reporting elapsed seconds as progress. */
export const testSleep: NodeClass = {
  name: 'TestSleep',
  displayName: 'Test Sleep',
  description: '',
  category: '_for_testing',
  pythonModule: 'custom_nodes.testing-suite',
  outputNode: false,
  returnTypes: ['*'],
  inputTypes: () => ({
    required: {
      value: ['*', {}],
      seconds: [
        'FLOAT',
        { default: 2.0, min: 0.0, max: 9999.0, step: 0.01, tooltip: 'The amount of seconds to sleep.' },
      ],
    },
    hidden: { unique_id: 'UNIQUE_ID' },
  }),
  run: async (inputs, context) => {
    const seconds = Number(inputs['seconds']);
    const start = performance.now();
    const expiration = start + seconds * 1000;
    let now = start;
    while (now < expiration) {
      now = performance.now();
      await context.progress((now - start) / 1000, seconds);
      await delay(SLEEP_TICK_MS);
    }
    return { outputs: [inputs['value']] };
  },
};
