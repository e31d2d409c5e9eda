/**
 * `npm run demo`: see comfycord work in one command, with no Discord token and no GPU.
 *
 * Starts the ComfyUI emulator (or uses the ComfyUI at COMFY_URLS when one answers there), the fake Discord from the
 * test suite, and the real bot; then a member runs one `/imagine`, the status card's changes are printed as they
 * happen, and the final image(s) are saved under `demo-output/`.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { startComfycord } from '../src/app.js';
import { cardStatus } from '../src/discord/card-layout.js';
import { loadConfig, readEnvironment } from '../src/config.js';
import { startEmulator, type Emulator } from '../src/emulator/index.js';
import { silentLogger } from '../src/logger.js';
import { DISCORD_ENVIRONMENT_VARIABLES, startFakeDiscord } from '../test/fakes/discord/index.js';

export interface DemoOptions {
  readonly prompt?: string;
  readonly outputDir?: string;
  /** A ComfyUI to use instead of the emulator (used only when it answers). */
  readonly comfyUrl?: string | undefined;
  /** Where progress lines go. */
  readonly print?: (line: string) => void;
}

export interface DemoResult {
  readonly files: string[];
  readonly comfy: 'emulator' | 'real';
  readonly cardStates: string[];
}

/** Runs the demo; resolves with the files written. */
export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const print = options.print ?? console.log;
  const prompt = options.prompt ?? 'a red fox in the snow, golden hour --ar 3:2 --steps 20';
  const outputDir = options.outputDir ?? 'demo-output';
  // discord.js reads these from the environment; the demo must talk to the fake only.
  for (const name of DISCORD_ENVIRONMENT_VARIABLES) delete process.env[name];

  const real = options.comfyUrl !== undefined && (await answers(options.comfyUrl));
  const emulator: Emulator | undefined = real ? undefined : await startEmulator({ stepMs: 40, previews: true });
  const comfyUrl = real ? options.comfyUrl! : emulator!.url;
  print(real ? `Using the ComfyUI server at ${comfyUrl}.` : `Started the ComfyUI emulator at ${comfyUrl}.`);
  const discord = await startFakeDiscord();
  print(`Started a fake Discord at ${discord.apiUrl}.`);
  const dataDir = await mkdtemp(path.join(tmpdir(), 'comfycord-demo-'));
  const config = loadConfig(
    {
      DISCORD_TOKEN: discord.token,
      DISCORD_APPLICATION_ID: discord.applicationId,
      DISCORD_API_URL: discord.apiUrl,
      COMFY_URLS: comfyUrl,
      STORE_URL: `sqlite://${path.join(dataDir, 'demo.sqlite')}`,
    },
    { requireDiscord: true, interactive: false },
  );
  const bot = await startComfycord({ config, logger: silentLogger(), dataDir, cardIntervalMs: 500 });
  try {
    print(`The bot is connected. A member types: /imagine prompt:${prompt}`);
    const handle = await discord.sendSlashCommand({
      user: discord.member,
      channel: discord.channel,
      name: 'imagine',
      options: { prompt },
    });
    const callback = await handle.waitForCallback();
    print(`  [card] deferred (interaction callback type ${callback.type})`);
    const cardStates: string[] = [];
    for (let count = 1; ; count += 1) {
      const edit = await handle.waitForEdit(count, 600_000);
      const content = cardStatus((edit.body as { components?: unknown[] } | null)?.components ?? []);
      cardStates.push(content);
      print(`  [card] ${content.split('\n').join(' / ')}`);
      if (edit.files.length > 0 && !content.startsWith('Running')) {
        const files = await saveFiles(outputDir, edit.files);
        for (const file of files) print(`Saved ${file}`);
        return { files, comfy: real ? 'real' : 'emulator', cardStates };
      }
      if (/^(❌|Cancelled)/.test(content)) throw new Error(`the job did not succeed: ${content}`);
    }
  } finally {
    await bot.stop();
    await discord.close();
    await emulator?.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function saveFiles(dir: string, files: ReadonlyArray<{ filename: string; data: Buffer }>): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  return Promise.all(
    files.map(async (file) => {
      const target = path.join(dir, path.basename(file.filename));
      await writeFile(target, file.data);
      return target;
    }),
  );
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/system_stats`, { signal: AbortSignal.timeout(1500) });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const env = readEnvironment();
  runDemo({ comfyUrl: env.COMFY_URLS?.split(',')[0]?.replace(/^[\w.-]+=/, '') }).then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(`The demo failed: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}
