/**
 * Draws the README's picture of a finished card (docs/card.png): the card as `renderCard` builds it (Components V2:
 * container, texts, media gallery, button rows), laid out in HTML the way Discord's dark theme shows such a message,
 * and photographed by Debian's Chromium through playwright-core. The four pictures are drawn here (soft gradients),
 * standing in for what a ComfyUI server would make.
 *
 *   npx tsx scripts/card-picture.ts [out.png]
 */
import { writeFile } from 'node:fs/promises';
import { ButtonStyle, ComponentType } from 'discord.js';
import { chromium } from 'playwright-core';
import sharp from 'sharp';
import { renderCard, type CardFile } from '../src/discord/cards.js';
import { refineFooter } from '../src/discord/session-opener.js';

type Json = Record<string, unknown>;

const out = process.argv[2] ?? 'docs/card.png';

async function picture(index: number): Promise<CardFile> {
  const hues = [
    [250, 140, 90],
    [90, 150, 230],
    [120, 200, 150],
    [230, 110, 170],
  ][index]!;
  const size = 256;
  const pixels = Buffer.alloc(size * size * 3);
  for (let y = 0; y < size; y += 1) {
    for (let x = 0; x < size; x += 1) {
      const light = 0.35 + 0.65 * Math.exp(-((x - 160) ** 2 + (y - 90) ** 2) / 9000);
      const offset = (y * size + x) * 3;
      for (let channel = 0; channel < 3; channel += 1) {
        pixels[offset + channel] = Math.min(255, Math.round(hues[channel]! * light + 20 * (y / size)));
      }
    }
  }
  const data = await sharp(pixels, { raw: { width: size, height: size, channels: 3 } })
    .png()
    .toBuffer();
  return { name: `ComfyUI_0000${index + 1}_.png`, data, contentType: 'image/png' };
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The bit of Markdown a card uses: bold, inline code, `>>> ` quotes, `-# ` small print. */
function markdown(text: string): string {
  const inline = (line: string) =>
    escape(line)
      .replace(/\*\*([^*]+)\*\*/g, '<b>$1</b>')
      .replace(/`([^`]+)`/g, '<code>$1</code>');
  if (text.startsWith('>>> ')) return `<blockquote>${inline(text.slice(4)).replace(/\n/g, '<br>')}</blockquote>`;
  if (text.startsWith('-# ')) return `<small>${inline(text.slice(3))}</small>`;
  return text
    .split('\n')
    .map((line) => `<div>${inline(line)}</div>`)
    .join('');
}

function html(component: Json, files: Map<string, string>): string {
  const children = (component.components as Json[] | undefined) ?? [];
  switch (component.type) {
    case ComponentType.Container:
      return `<div class="container" style="border-color:#${Number(component.accent_color).toString(16).padStart(6, '0')}">${children.map((child) => html(child, files)).join('')}</div>`;
    case ComponentType.TextDisplay:
      return `<div class="text">${markdown(String(component.content))}</div>`;
    case ComponentType.MediaGallery: {
      const items = component.items as { media: { url: string } }[];
      return `<div class="gallery n${items.length}">${items.map((item) => `<img src="${files.get(item.media.url)}">`).join('')}</div>`;
    }
    case ComponentType.Separator:
      return '<hr>';
    case ComponentType.ActionRow:
      return `<div class="row">${children
        .map((button) => {
          const style = { [ButtonStyle.Primary]: 'primary', [ButtonStyle.Danger]: 'danger' }[Number(button.style)];
          return `<span class="button ${style ?? 'secondary'}">${escape(String(button.label))}</span>`;
        })
        .join('')}</div>`;
    default:
      return '';
  }
}

const CSS = `
body { margin: 0; background: #313338; font: 15px/1.375 'gg sans', 'Noto Sans', 'Helvetica Neue', sans-serif; color: #dbdee1; }
.message { display: flex; gap: 16px; padding: 16px 20px; width: 560px; }
.avatar { width: 40px; height: 40px; border-radius: 50%; background: #5865f2; flex: none; }
.name { color: #f2f3f5; font-weight: 600; } .tag { background: #5865f2; color: #fff; font-size: 10px; border-radius: 3px; padding: 1px 4px; margin-left: 4px; vertical-align: 2px; }
.time { color: #949ba4; font-size: 12px; margin-left: 6px; }
.container { margin-top: 6px; background: #2b2d31; border-left: 4px solid; border-radius: 8px; padding: 12px 16px; display: flex; flex-direction: column; gap: 8px; }
.text b { color: #f2f3f5; } code { background: #1e1f22; border-radius: 3px; padding: 0 3px; font-size: 13px; }
blockquote { margin: 0; border-left: 4px solid #4e5058; padding-left: 10px; }
small { color: #949ba4; font-size: 12px; }
.gallery { display: grid; grid-template-columns: 1fr 1fr; gap: 4px; border-radius: 8px; overflow: hidden; }
.gallery.n1 { grid-template-columns: 1fr; } .gallery img { width: 100%; display: block; aspect-ratio: 1; object-fit: cover; }
hr { border: none; border-top: 1px solid #3f4147; width: 100%; margin: 2px 0; }
.row { display: flex; gap: 8px; flex-wrap: wrap; }
.button { border-radius: 8px; padding: 4px 14px; font-size: 14px; font-weight: 500; color: #fff; min-height: 24px; display: inline-flex; align-items: center; }
.primary { background: #5865f2; } .secondary { background: #4e5058; } .danger { background: #da373c; }
`;

async function main(): Promise<void> {
  const files = await Promise.all([0, 1, 2, 3].map(picture));
  const card = renderCard(
    'job',
    {
      prompt: 'a lighthouse on a cliff at dusk, warm light, mist over the sea',
      negative: 'blurry',
      workflow: 'txt2img',
      seed: 184467,
      width: 1024,
      height: 1024,
      count: 4,
      model: 'sdxl/juggernautXL_v9.safetensors',
    },
    {
      phase: 'done',
      files,
      durationMs: 14_200,
      notes: [],
      generationId: 'g',
      refineHelp: refineFooter('en-US', '//'),
      threadButton: true,
    },
  );
  const urls = new Map(
    card.files.map((file) => [`attachment://${file.name}`, `data:image/png;base64,${file.data.toString('base64')}`]),
  );
  const body = card.components.map((component) => html(component as unknown as Json, urls)).join('');
  const page = `<html><head><style>${CSS}</style></head><body><div class="message"><div class="avatar"></div><div><span class="name">comfycord</span><span class="tag">APP</span><span class="time">Today at 21:04</span>${body}</div></div></body></html>`;
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium' });
  try {
    const tab = await browser.newPage({ viewport: { width: 620, height: 400 }, deviceScaleFactor: 1 });
    await tab.setContent(page);
    const shot = await tab.locator('.message').screenshot();
    await writeFile(out, shot);
    console.log(`wrote ${out}`);
  } finally {
    await browser.close();
  }
}

await main();
