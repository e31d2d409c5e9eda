/**
 * One generation on the page: its status while it runs (queue position, progress bar, the preview sharpening), then
 * its images in a grid with download links and the settings used, and under them a refine box with Reroll, Vary and
 * Upscale.
 */
import type { Generation } from './api.js';

/** What a card's buttons ask for. */
export interface CardActions {
  refine(generation: Generation, text: string): void;
  vary(generation: Generation, output: number): void;
  upscale(generation: Generation, output: number): void;
  cancel(generation: Generation): void;
}

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

const ENDED = new Set(['succeeded', 'failed', 'cancelled']);

/** A card that follows one generation. */
export class GenerationCard {
  readonly root: HTMLElement;
  readonly #status = element('p', { class: 'status', role: 'status' });
  readonly #bar = element('progress', { max: '100', value: '0' });
  readonly #preview = element('img', { class: 'preview', alt: 'Preview' });
  readonly #body = element('div', { class: 'card-body' });
  readonly #error = element('p', { class: 'error', role: 'alert' });
  #generation: Generation;

  constructor(
    generation: Generation,
    private readonly actions: CardActions,
  ) {
    this.#generation = generation;
    this.root = element('article', { class: 'card', 'data-id': generation.id });
    const prompt = element('h3', { class: 'prompt' }, String(generation.settings['prompt'] ?? ''));
    this.#preview.hidden = true;
    this.#error.hidden = true;
    this.root.append(prompt, this.#status, this.#bar, this.#preview, this.#body, this.#error);
    this.update(generation);
  }

  get generation(): Generation {
    return this.#generation;
  }

  /** Shows the generation as it is now. */
  update(generation: Generation): void {
    this.#generation = generation;
    this.root.dataset['status'] = generation.status;
    if (ENDED.has(generation.status)) return this.#showEnd(generation);
    if (generation.status === 'queued') {
      this.#status.textContent = generation.position ? `Queued, position ${generation.position}` : 'Queued';
    } else {
      this.progress(generation.progress?.percent ?? 0);
    }
    if (!this.#body.hasChildNodes()) {
      const cancel = element('button', { type: 'button', class: 'link' }, 'Cancel');
      cancel.addEventListener('click', () => this.actions.cancel(this.#generation));
      this.#body.append(cancel);
    }
  }

  /** Shows the sampler's progress. */
  progress(percent: number): void {
    this.#status.textContent = `Running, ${percent}%`;
    this.#bar.value = percent;
  }

  /** Shows the newest preview. */
  preview(image: string): void {
    this.#preview.src = image;
    this.#preview.hidden = false;
  }

  /** Shows a sentence under the card (a refine that was refused). */
  fail(message: string): void {
    this.#error.textContent = message;
    this.#error.hidden = false;
  }

  #showEnd(generation: Generation): void {
    this.#bar.remove();
    this.#preview.remove();
    this.#body.replaceChildren();
    if (generation.status !== 'succeeded') {
      this.#status.textContent =
        generation.status === 'cancelled' ? 'Cancelled.' : (generation.error?.message ?? 'Failed.');
      this.root.classList.add(generation.status);
      return;
    }
    const seconds = generation.finished_at
      ? (Date.parse(generation.finished_at) - Date.parse(generation.created_at)) / 1000
      : undefined;
    this.#status.textContent = seconds === undefined ? 'Done.' : `Done in ${seconds.toFixed(1)} s.`;
    this.#body.append(this.#grid(generation), this.#settings(generation), this.#refineBox(generation));
  }

  #grid(generation: Generation): HTMLElement {
    const grid = element('div', { class: 'grid' });
    generation.outputs.forEach((output, index) => {
      const figure = element('figure');
      if (output.content_type.startsWith('image/')) {
        figure.append(element('img', { src: output.url, alt: `Result ${index + 1}`, loading: 'lazy' }));
      } else if (output.content_type.startsWith('video/')) {
        figure.append(element('video', { src: output.url, controls: '', loop: '', muted: '' }));
      }
      const caption = element('figcaption');
      const download = element('a', { href: output.url, download: output.filename }, 'Download');
      const vary = element('button', { type: 'button', class: 'link' }, 'Vary');
      vary.addEventListener('click', () => this.actions.vary(this.#generation, index));
      const upscale = element('button', { type: 'button', class: 'link' }, 'Upscale');
      upscale.addEventListener('click', () => this.actions.upscale(this.#generation, index));
      caption.append(download, vary, upscale);
      figure.append(caption);
      grid.append(figure);
    });
    return grid;
  }

  #settings(generation: Generation): HTMLElement {
    const list = element('dl', { class: 'settings' });
    const shown: [string, unknown][] = [
      ['Workflow', generation.workflow],
      ['Seed', generation.settings['seed']],
      ['Size', sizeOf(generation.settings)],
      ['Steps', generation.settings['steps']],
      ['CFG', generation.settings['cfg']],
      ['Negative', generation.settings['negative']],
    ];
    for (const [name, value] of shown) {
      if (value === undefined || value === '') continue;
      list.append(element('dt', {}, name), element('dd', {}, String(value)));
    }
    return list;
  }

  #refineBox(generation: Generation): HTMLElement {
    const form = element('form', { class: 'refine' });
    const input = element('input', {
      type: 'text',
      'aria-label': 'Refine',
      placeholder: 'Refine: new text, + more, --seed 7, or again',
    });
    const submit = element('button', { type: 'submit' }, 'Refine');
    const reroll = element('button', { type: 'button' }, 'Reroll');
    form.append(input, submit, reroll);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      if (input.value.trim() !== '') this.actions.refine(generation, input.value);
    });
    reroll.addEventListener('click', () => this.actions.refine(generation, 'again'));
    return form;
  }
}

function sizeOf(settings: Record<string, unknown>): string | undefined {
  const { width, height } = settings;
  return typeof width === 'number' && typeof height === 'number' ? `${width}×${height}` : undefined;
}
