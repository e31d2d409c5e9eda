import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRig, type Rig } from './harness.js';

let rig: Rig;

beforeAll(async () => {
  rig = await startRig();
});

afterAll(async () => {
  await rig?.close();
});

describe('/imagine end to end', () => {
  it('defers, shows the card, and posts the emulator’s image with its details and buttons', async () => {
    const handle = await rig.discord.sendSlashCommand({
      user: rig.discord.member,
      channel: rig.discord.channel,
      name: 'imagine',
      options: { prompt: 'a red fox in the snow --seed 42 --ar 3:2' },
    });
    const callback = await handle.waitForCallback();
    expect(callback.type).toBe(5);
    const final = await handle.waitForOriginal((message) => message.attachments.length > 0, 15_000);
    expect(final.content).toMatch(/^Done in/);
    const received = rig.emulator.received.at(-1)!;
    const upload = await rig.discord.waitFor((call) => call.method === 'PATCH' && call.files.length > 0);
    const files = upload.files;
    expect(files).toHaveLength(1);
    const written = await readFile(path.join(rig.emulator.dataDir, 'output', 'comfycord', files[0]!.filename));
    expect(Buffer.compare(files[0]!.data, written)).toBe(0);
    expect(JSON.stringify(received.prompt)).toContain('a red fox in the snow');
    rig.discord.assertNoUnhandledCalls();
  });
});
