import { describe, expect, it } from 'vitest';
import { TEXT_FIELD_LIMIT } from '../../src/discord/cards.js';
import { textsOnCard } from '../../src/discord/job-presenter.js';
import type { JobFile } from '../../src/jobs/index.js';

const text = (words: string, node = '8'): JobFile => ({
  bytes: Buffer.from(words),
  filename: `text-${node}-1.txt`,
  mimeType: 'text/plain',
  node,
  text: words,
});
const image: JobFile = { bytes: Buffer.alloc(1), filename: 'a.png', mimeType: 'image/png', node: '9' };

describe('textsOnCard', () => {
  it('shows a text on the card and attaches the files', () => {
    expect(textsOnCard([image, text('hello')])).toEqual({
      texts: [{ label: 'Text', text: 'hello' }],
      attached: [image],
    });
  });

  it('numbers several texts', () => {
    const { texts } = textsOnCard([text('one', '7'), text('two', '8')]);
    expect(texts.map((entry) => entry.label)).toEqual(['Text 1', 'Text 2']);
  });

  it('also attaches a text too long for the card, so none of it is lost', () => {
    const long = text('x'.repeat(TEXT_FIELD_LIMIT + 1));
    expect(textsOnCard([long]).attached).toEqual([long]);
  });
});
