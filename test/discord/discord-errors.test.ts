import { DiscordAPIError, HTTPError } from 'discord.js';
import { describe, expect, it } from 'vitest';
import { classifyFailure } from '../../src/discord/discord-errors.js';

function apiError(status: number, code: number): DiscordAPIError {
  const request = { body: undefined, files: undefined };
  return new DiscordAPIError({ code, message: 'refused' }, code, status, 'POST', '/channels/1/messages', request);
}

describe('classifyFailure', () => {
  it('tries rate limits, 5xx answers and network failures again as they were', () => {
    expect(classifyFailure(apiError(429, 0), true)).toBe('transient');
    expect(
      classifyFailure(new HTTPError(502, 'Bad Gateway', 'POST', '/x', { body: undefined, files: undefined }), true),
    ).toBe('transient');
    expect(classifyFailure(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), false)).toBe(
      'transient',
    );
  });

  it('sends a smaller card when the body was refused: too large, or no permission while attaching files', () => {
    expect(classifyFailure(apiError(413, 40005), true)).toBe('body');
    expect(classifyFailure(apiError(403, 50013), true)).toBe('body');
  });

  it('goes elsewhere when the place is refused: no permission without files, unknown channel, message or webhook', () => {
    expect(classifyFailure(apiError(403, 50013), false)).toBe('place');
    expect(classifyFailure(apiError(404, 10003), true)).toBe('place');
    expect(classifyFailure(apiError(404, 10008), true)).toBe('place');
    expect(classifyFailure(apiError(404, 10015), true)).toBe('place');
    expect(classifyFailure(apiError(401, 50027), true)).toBe('place');
  });
});
