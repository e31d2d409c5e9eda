import { describe, expect, it } from 'vitest';
import { fitMessage } from '../../src/commands/workflows.js';

describe('the /workflows answer', () => {
  it('is sent whole when it fits in a Discord message', () => {
    expect(fitMessage('short', 'de')).toBe('short');
  });

  it('is cut to Discord’s 2,000 characters with a line, in the member’s language, saying where the rest is', () => {
    const long = 'x'.repeat(2500);
    const german = fitMessage(long, 'de');
    expect(german).toHaveLength(2000);
    expect(german.endsWith('\n… (mehr im Log des Bots)')).toBe(true);
    expect(fitMessage(long, 'nl').endsWith("\n… (more in the bot's log)")).toBe(true);
  });
});
