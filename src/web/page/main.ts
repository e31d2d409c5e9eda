/**
 * The page: a prompt box with the flags, workflow and aspect pickers and a count; each generation shows up as a card
 * that follows its events live, and the history of this key's generations sits below.
 */
import './style.css';
import { ApiError, call, follow, saveKey, savedKey, uploadImage, type Generation, type Workflow } from './api.js';
import { GenerationCard, type CardActions } from './card.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const form = $<HTMLFormElement>('create');
const prompt = $<HTMLTextAreaElement>('prompt');
const workflow = $<HTMLSelectElement>('workflow');
const aspect = $<HTMLSelectElement>('aspect');
const count = $<HTMLSelectElement>('count');
const image = $<HTMLInputElement>('image');
const formError = $<HTMLParagraphElement>('form-error');
const results = $<HTMLElement>('results');
const history = $<HTMLElement>('history');
const moreHistory = $<HTMLButtonElement>('more-history');
const keyPanel = $<HTMLElement>('key-panel');
const keyButton = $<HTMLButtonElement>('key-button');
const keyInput = $<HTMLInputElement>('api-key');

const cards = new Map<string, GenerationCard>();
let historyPage = 1;

const actions: CardActions = {
  refine: (generation, text) => void start(generation, () => call('POST', generation.urls.refine, { text })),
  vary: (generation, output) =>
    void start(generation, () => call('POST', generation.urls.refine, { action: 'vary', output })),
  upscale: (generation, output) =>
    void start(generation, () => call('POST', generation.urls.refine, { action: 'upscale', output })),
  cancel: (generation) =>
    void call('POST', generation.urls.cancel).catch((error: unknown) =>
      cards.get(generation.id)?.fail(sentence(error)),
    ),
};

/** Starts a generation and shows its card at the top; a refusal is shown where it was asked for. */
async function start(from: Generation | undefined, request: () => Promise<Generation>): Promise<void> {
  try {
    show(await request(), true);
    formError.hidden = true;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) askForKey();
    if (from) cards.get(from.id)?.fail(sentence(error));
    else showFormError(sentence(error));
  }
}

/** Shows a generation's card (at the top when new) and follows it while it runs. */
function show(generation: Generation, atTop: boolean): GenerationCard {
  let card = cards.get(generation.id);
  if (card) {
    card.update(generation);
  } else {
    card = new GenerationCard(generation, actions);
    cards.set(generation.id, card);
    if (atTop) results.prepend(card.root);
    else results.append(card.root);
  }
  if (!['succeeded', 'failed', 'cancelled'].includes(generation.status)) void track(card);
  return card;
}

async function track(card: GenerationCard): Promise<void> {
  await follow(card.generation, ({ event, data }) => {
    const values = data as Record<string, unknown>;
    if (event === 'status' || event === 'end') card.update(data as Generation);
    else if (event === 'queued')
      card.update({ ...card.generation, status: 'queued', position: Number(values['position']) });
    else if (event === 'running') card.update({ ...card.generation, status: 'running' });
    else if (event === 'progress') card.progress(Number(values['percent']));
    else if (event === 'preview') card.preview(String(values['image']));
    if (event === 'end') void loadHistory(true);
  });
}

// The chosen image is uploaded once; generating again from it reuses the upload until it expires.
let uploaded: { file: File; id: string; expiresAt: number } | undefined;

async function uploadedImageId(file: File): Promise<string> {
  if (uploaded?.file !== file || uploaded.expiresAt < Date.now() + 60_000) {
    const answer = await uploadImage(file);
    uploaded = { file, id: answer.id, expiresAt: Date.parse(answer.expires_at) };
  }
  return uploaded.id;
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  const body: Record<string, unknown> = { prompt: prompt.value };
  if (workflow.value) body['workflow'] = workflow.value;
  if (aspect.value) body['aspect'] = aspect.value;
  if (count.value !== '1') body['count'] = Number(count.value);
  const file = image.files?.[0];
  void start(undefined, async () => {
    // With an image the server picks an image-to-image workflow, unless one is named.
    if (file) body['image'] = { upload: await uploadedImageId(file) };
    return call('POST', '/v1/generations', body);
  });
});

// Enter sends, Shift+Enter breaks the line, as in chat apps.
prompt.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey) {
    event.preventDefault();
    form.requestSubmit();
  }
});

async function loadWorkflows(): Promise<void> {
  const { data } = await call<{ data: Workflow[] }>('GET', '/v1/workflows');
  for (const item of data.filter((candidate) => ['text-to-image', 'image-to-image'].includes(candidate.kind))) {
    const option = document.createElement('option');
    option.value = item.name;
    option.textContent = item.name;
    option.title = item.description;
    workflow.append(option);
  }
}

/** The history gallery: thumbnails of the key's generations; a click opens the generation's card. */
async function loadHistory(fresh = false): Promise<void> {
  if (fresh) historyPage = 1;
  const page = await call<{ data: Generation[]; page_count: number }>(
    'GET',
    `/v1/generations?page=${historyPage}&limit=24`,
  );
  if (fresh) history.replaceChildren();
  for (const generation of page.data) history.append(thumbnail(generation));
  moreHistory.hidden = historyPage >= page.page_count;
}

function thumbnail(generation: Generation): HTMLElement {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = `thumb ${generation.status}`;
  const text = String(generation.settings['prompt'] ?? '');
  button.title = text;
  button.setAttribute('aria-label', text || generation.id);
  const image = generation.outputs.find((output) => output.content_type.startsWith('image/'));
  if (image) {
    const img = document.createElement('img');
    img.src = image.url;
    img.alt = text;
    img.loading = 'lazy';
    button.append(img);
  } else {
    button.textContent = generation.status;
  }
  button.addEventListener('click', () => {
    const card = show(generation, true);
    results.prepend(card.root);
    card.root.scrollIntoView({ behavior: 'smooth', block: 'start' });
  });
  return button;
}

moreHistory.addEventListener('click', () => {
  historyPage += 1;
  void loadHistory();
});

function askForKey(): void {
  keyPanel.hidden = false;
  keyButton.hidden = false;
  keyInput.focus();
}

$<HTMLButtonElement>('save-key').addEventListener('click', () => {
  saveKey(keyInput.value);
  keyPanel.hidden = true;
  void boot();
});
keyButton.addEventListener('click', askForKey);

function showFormError(message: string): void {
  formError.textContent = message;
  formError.hidden = false;
}

function sentence(error: unknown): string {
  return error instanceof Error ? error.message : 'Something went wrong; please try again.';
}

async function boot(): Promise<void> {
  keyButton.hidden = savedKey() === '';
  try {
    await Promise.all([loadWorkflows(), loadHistory(true)]);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) askForKey();
    else showFormError(sentence(error));
  }
}

void boot();
