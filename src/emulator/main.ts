/**
 * `npm run comfy:emulator`: runs the ComfyUI emulator on its own so people can try the bot without a GPU.
 */
import { parseArgs } from 'node:util';
import { createLogger } from '../logger.js';
import { startEmulator } from './index.js';
import { COMFY_VERSIONS, isComfyVersion } from './versions/version.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8188' },
    host: { type: 'string', default: '127.0.0.1' },
    'step-ms': { type: 'string', default: '20' },
    previews: { type: 'boolean', default: false },
    'output-dir': { type: 'string' },
    'data-dir': { type: 'string' },
    catalogue: { type: 'string', default: 'implemented' },
    version: { type: 'string', default: '0.3.64' },
    // The model files this server lists (comma-separated, folders allowed): several emulators with different files
    // show how jobs are routed to the server that has what a member chose.
    checkpoints: { type: 'string' },
    loras: { type: 'string' },
  },
  strict: true,
});

if (values.catalogue !== 'implemented' && values.catalogue !== 'full') {
  console.error(`--catalogue must be "implemented" or "full", got "${values.catalogue}"`);
  process.exit(2);
}
const catalogue = values.catalogue;
if (!isComfyVersion(values.version)) {
  console.error(`--version must be one of ${COMFY_VERSIONS.join(', ')}, got "${values.version}"`);
  process.exit(2);
}
const version = values.version;

const logger = createLogger({ level: 'info', format: process.stdout.isTTY ? 'pretty' : 'json' });
const emulator = await startEmulator({
  port: parseNumber('port', values.port),
  host: values.host,
  stepMs: parseNumber('step-ms', values['step-ms']),
  previews: values.previews,
  outputDir: values['output-dir'],
  dataDir: values['data-dir'],
  catalogue,
  version,
  ...fileList('checkpoints', values.checkpoints),
  ...fileList('loras', values.loras),
  logger,
}).catch((error: unknown) => {
  // The usual cause is another ComfyUI (or emulator) on the port; say so instead of dumping a stack.
  console.error(`Could not start the ComfyUI emulator: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
logger.info({ url: emulator.url, dataDir: emulator.dataDir }, 'ComfyUI emulator ready (Ctrl+C to stop)');

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void emulator.close().then(() => process.exit(0));
  });
}

function fileList(name: 'checkpoints' | 'loras', text: string | undefined): { [key: string]: string[] } {
  if (text === undefined) return {};
  return {
    [name]: text
      .split(',')
      .map((file) => file.trim())
      .filter(Boolean),
  };
}

function parseNumber(flag: string, text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) {
    console.error(`--${flag} must be a non-negative number, got "${text}"`);
    process.exit(2);
  }
  return value;
}
