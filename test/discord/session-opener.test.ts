import { describe, expect, it } from 'vitest';
import type { JobRecord } from '../../src/jobs/model.js';
import { refineFooter, refineOnCard, threadNameFor } from '../../src/discord/session-opener.js';

function job(delivery: Partial<NonNullable<JobRecord['delivery']>>): JobRecord {
  return { delivery: { tokenExpiresAt: 0, channelId: '1', ...delivery } } as JobRecord;
}

describe('refineFooter', () => {
  it('says how to refine in one plain line, naming the chat prefix: footers show no formatting', () => {
    const footer = refineFooter('en-US', '//');
    expect(footer).toMatch(/^Reply to refine: /);
    expect(footer).toContain('// to just chat');
    expect(footer).not.toMatch(/[`*\n]/);
    expect(footer.length).toBeLessThanOrEqual(200);
    expect(refineFooter('en-US', '')).not.toContain('chat');
  });

  it('speaks the member’s language', () => {
    expect(refineFooter('de', '#')).toMatch(/^Antworte zum Verfeinern: .*# für normales Schreiben\.$/);
  });
});

describe('refineOnCard', () => {
  it('offers the reply help everywhere the bot reads replies, and a thread where it may open one', () => {
    expect(refineOnCard(job({ threads: true }), '//')).toEqual({
      notes: [],
      refineHelp: refineFooter(undefined, '//'),
      threadButton: true,
    });
    expect(refineOnCard(job({}), '//').threadButton).toBe(false);
  });

  it('says to use Edit, and offers neither, where only the interaction webhook reaches', () => {
    const card = refineOnCard(job({ webhookOnly: true, threads: true }), '//');
    expect(card).toEqual({
      notes: ['Press Edit to change the prompt or settings; replies here do not reach me.'],
      threadButton: false,
    });
  });
});

describe('threadNameFor', () => {
  it('names a thread after the prompt, at most 100 characters', () => {
    expect(threadNameFor('  a  red\nfox ')).toBe('a red fox');
    expect(threadNameFor('x'.repeat(150))).toHaveLength(100);
    expect(threadNameFor('   ')).toBe('comfycord session');
  });
});
