/**
 * The read-only routes: /object_info, /system_stats, /features, /embeddings, /models, /extensions, plus POST /free.
 */
import os from 'node:os';
import { pyJson } from '../server/py-json.js';
import { readJson, sendEmpty, sendJson, sendJsonText, type Router } from '../server/http-kit.js';
import { currentNodeInfoText } from '../versions/current-node-info.js';
import { currentSystemAdditions, featureFlags } from '../versions/current-info.js';
import { reportedVersion, type ComfyVersion } from '../versions/version.js';
import type { RouteContext } from './context.js';

const MODEL_FOLDERS = [
  'checkpoints',
  'configs',
  'loras',
  'vae',
  'text_encoders',
  'diffusion_models',
  'clip_vision',
  'style_models',
  'embeddings',
  'diffusers',
  'vae_approx',
  'controlnet',
  'gligen',
  'upscale_models',
  'custom_nodes',
  'hypernetworks',
  'photomaker',
  'classifiers',
  'model_patches',
  'audio_encoders',
];

/** Registers the informational routes; `argv` is what /system_stats reports as the command line. */
export function addInfoRoutes(router: Router, context: RouteContext, argv: () => string[]): void {
  // Node info is served as text, exactly as recorded (Python writes 1.0 and 2**64-1, which JSON.parse would not keep).
  router.add('GET', '/object_info', (_req, res) => {
    const { catalogue } = context.environment;
    if (context.version !== 'current') return sendJsonText(res, 200, catalogue.bodyText());
    const entries = catalogue.names().map((name) => `${pyJson(name)}: ${served(context, catalogue.infoText(name)!)}`);
    sendJsonText(res, 200, `{${entries.join(', ')}}`);
  });
  router.add('GET', '/object_info/{node_class}', (req, res) => {
    const name = req.params['node_class'] ?? '';
    const info = context.environment.catalogue.infoText(name);
    sendJsonText(res, 200, info === undefined ? '{}' : `{${pyJson(name)}: ${served(context, info)}}`);
  });
  router.add('GET', '/system_stats', (_req, res) => {
    // What torch raises on a GPU in a bad state; the listener answers it as aiohttp does, with a bare 500.
    if (context.systemStatsFails()) throw new Error('CUDA error: unspecified launch failure');
    sendJson(res, 200, systemStats(argv(), context.version));
  });
  router.add('GET', '/features', (_req, res) => sendJson(res, 200, featureFlags(context.version)));
  router.add('GET', '/embeddings', (_req, res) => sendJson(res, 200, []));
  router.add('GET', '/extensions', (_req, res) => sendJson(res, 200, []));
  router.add('GET', '/models', (_req, res) => sendJson(res, 200, MODEL_FOLDERS));
  router.add('GET', '/models/{folder}', (req, res) => {
    const folder = req.params['folder'] ?? '';
    if (!MODEL_FOLDERS.includes(folder)) {
      sendEmpty(res, 404);
      return;
    }
    const lists: Record<string, readonly string[]> = {
      checkpoints: context.environment.checkpoints,
      loras: context.environment.loras,
      upscale_models: context.environment.upscaleModels,
    };
    sendJson(res, 200, [...(lists[folder] ?? [])]);
  });
  router.add('POST', '/free', async (req, res) => {
    await readJson(req);
    sendEmpty(res, 200);
  });
}

/** A node's entry as the emulated version serves it (the catalogue's entry is 0.3.64's). */
function served(context: RouteContext, infoText: string): string {
  return context.version === 'current' ? currentNodeInfoText(infoText) : infoText;
}

function systemStats(argv: string[], version: ComfyVersion): unknown {
  const [total, free] = [os.totalmem(), os.freemem()];
  return {
    system: {
      os: 'posix',
      ram_total: total,
      ram_free: free,
      comfyui_version: reportedVersion(version),
      required_frontend_version: '1.27.10',
      installed_templates_version: null,
      required_templates_version: '0.1.95',
      python_version: '3.11.7 (main, emulated) [comfycord ComfyUI emulator]',
      pytorch_version: '2.13.0+cpu',
      embedded_python: false,
      argv,
      ...(version === 'current' ? currentSystemAdditions() : {}),
    },
    devices: [
      {
        name: 'cpu',
        type: 'cpu',
        index: null,
        vram_total: total,
        vram_free: free,
        torch_vram_total: total,
        torch_vram_free: free,
      },
    ],
  };
}
