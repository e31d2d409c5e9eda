import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetch, FormData } from 'undici';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import { silentLogger } from '../../src/logger.js';
import { bindWorkflow } from '../../src/workflows/bind.js';
import { loadWorkflows } from '../../src/workflows/load.js';
import { parseObjectInfo } from '../../src/workflows/object-info.js';
import { validateWorkflow } from '../../src/workflows/validate.js';
import type { Workflow } from '../../src/workflows/workflow.js';
import { buildReady, seedSource, SHIPPED_DIR, SHIPPED_NAMES } from '../workflows/helpers.js';
import { getJson, queuePrompt } from './http.js';
import { connectClient, isPromptDone, type RecordingClient } from './ws-client.js';

const CLIENT = 'shipped-workflows';

interface HistoryEntry {
  readonly status: { readonly status_str: string; readonly completed: boolean };
  readonly outputs: Record<string, Record<string, Array<{ filename: string; subfolder: string; type: string }>>>;
}

async function uploadImage(emulator: Emulator): Promise<string> {
  const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#3366cc' } })
    .png()
    .toBuffer();
  const form = new FormData();
  form.append('image', new Blob([png], { type: 'image/png' }), 'member-upload.png');
  const response = await fetch(`${emulator.url}/upload/image`, { method: 'POST', body: form });
  expect(response.status).toBe(200);
  return ((await response.json()) as { name: string }).name;
}

describe.each(['implemented', 'full'] as const)(
  'the shipped workflows and the seed’s on the %s catalogue',
  (catalogue) => {
    let emulator: Emulator;
    let client: RecordingClient;
    let workflows: Workflow[];
    let imageName: string;

    beforeAll(async () => {
      emulator = await startEmulator({ port: 0, stepMs: 0, catalogue });
      client = await connectClient(emulator.url, CLIENT);
      const loaded = await loadWorkflows(SHIPPED_DIR, silentLogger());
      workflows = [...loaded.list(), buildReady(seedSource())];
      imageName = await uploadImage(emulator);
    });

    afterAll(async () => {
      await client?.close();
      await emulator?.close();
    });

    it('validates every workflow against the node info the emulator serves', async () => {
      expect(workflows.map((workflow) => workflow.name)).toEqual([...SHIPPED_NAMES, 'simple']);
      // The client's one reader of /object_info reads every entry the emulator serves, V3 and null display names too.
      const reading = parseObjectInfo((await getJson(emulator.url, '/object_info')).body);
      if (!reading.ok) throw new Error(reading.problem);
      const info = reading.info;
      expect([...info.unreadable]).toEqual([]);
      expect(info.nodes.size).toBe(catalogue === 'full' ? 480 : 26);
      for (const workflow of workflows) {
        expect(validateWorkflow(workflow, info, 'emulator')).toEqual({
          workflow: workflow.name,
          server: 'emulator',
          ok: true,
          problems: [],
          warnings: [],
          modelProblems: [],
        });
      }
    });

    it('runs every workflow, bound with its default settings, to a successful history entry with files to download', async () => {
      for (const workflow of workflows) {
        const bound = bindWorkflow(workflow, {
          prompt: workflow.settings.prompt ? 'a red fox in the snow' : '',
          ...(workflow.settings.image ? { image: { name: imageName } } : {}),
        });
        if (!bound.ok) throw new Error(`${workflow.name}: ${bound.errors.map((error) => error.message).join(' ')}`);
        const from = client.events.length;
        const answer = await queuePrompt(emulator.url, { prompt: bound.graph, client_id: CLIENT });
        expect({ workflow: workflow.name, nodeErrors: answer.node_errors }).toEqual({
          workflow: workflow.name,
          nodeErrors: {},
        });
        await client.waitFor(isPromptDone(answer.prompt_id), from, 60_000);
        const entry = (await getJson<Record<string, HistoryEntry>>(emulator.url, `/history/${answer.prompt_id}`)).body[
          answer.prompt_id
        ];
        expect({ workflow: workflow.name, status: entry?.status }).toMatchObject({
          workflow: workflow.name,
          status: { status_str: 'success', completed: true },
        });
        const files = Object.values(entry?.outputs ?? {}).flatMap((output) => output['images'] ?? []);
        expect(files.length, workflow.name).toBeGreaterThan(0);
        for (const file of files) {
          const query = new URLSearchParams({ filename: file.filename, subfolder: file.subfolder, type: file.type });
          const response = await fetch(`${emulator.url}/view?${query}`);
          expect(response.status, `${workflow.name}: ${file.filename}`).toBe(200);
          expect((await response.arrayBuffer()).byteLength).toBeGreaterThan(0);
        }
      }
    });
  },
);
