/**
 * Small utility nodes seen in the recordings: primitives and the TestSleep node of ComfyUI's test node pack.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { NodeImplementation } from './types.js';

/** PrimitiveString ("String"). */
export const primitiveString: NodeImplementation = {
  name: 'PrimitiveString',
  run: async (inputs) => ({ outputs: [inputs['value']] }),
};

/** PrimitiveInt ("Int"). */
export const primitiveInt: NodeImplementation = {
  name: 'PrimitiveInt',
  run: async (inputs) => ({ outputs: [inputs['value']] }),
};

const SLEEP_TICK_MS = 10;

/** TestSleep: passes its value through after `seconds` of real time, reporting elapsed seconds as progress. */
export const testSleep: NodeImplementation = {
  name: 'TestSleep',
  // Not in the recorded server's catalogue: its info comes from the pack's source (ComfyUI's
  // tests/inference/testing_nodes/testing-pack/specific_tests.py), written as ComfyUI's node_info() writes it.
  info: new URL('./custom-info/TestSleep.json', import.meta.url),
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
