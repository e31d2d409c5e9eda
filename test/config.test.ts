import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, readEnvironment } from '../src/config.js';

const TOKEN = 'MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456789ABCD';

function problemsOf(env: Record<string, string>, requireDiscord = false): readonly string[] {
  try {
    loadConfig(env, { requireDiscord });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('loadConfig', () => {
  it('starts with defaults when nothing is set and Discord is not needed', () => {
    const config = loadConfig({}, { interactive: false });
    expect(config.comfy.servers).toEqual([{ name: 'comfy1', url: 'http://127.0.0.1:8188' }]);
    expect(config.storeUrl).toBe('sqlite://data/comfycord.sqlite');
    expect(config.log).toEqual({ level: 'info', format: 'json' });
    expect(config.discord.apiUrl).toBe('https://discord.com/api');
    expect(config.http.port).toBeUndefined();
    expect(config.limits.jobsPerMember).toBe(2);
    expect(config.comfy.promptsPerServer).toBe(2);
  });

  it('returns a frozen object', () => {
    const config = loadConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.comfy.servers[0])).toBe(true);
  });

  it('demands the token and application id only when Discord is needed', () => {
    const problems = problemsOf({}, true);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^DISCORD_TOKEN: is required/);
    expect(problems[1]).toMatch(/^DISCORD_APPLICATION_ID: is required/);
    expect(
      loadConfig({ DISCORD_TOKEN: TOKEN, DISCORD_APPLICATION_ID: '1234567890123456789' }, { requireDiscord: true })
        .discord.token,
    ).toBe(TOKEN);
  });

  it('parses named and unnamed ComfyUI servers and drops trailing slashes', () => {
    const config = loadConfig({ COMFY_URLS: 'gpu1=http://127.0.0.1:8188/, http://127.0.0.1:8189' });
    expect(config.comfy.servers).toEqual([
      { name: 'gpu1', url: 'http://127.0.0.1:8188' },
      { name: 'comfy2', url: 'http://127.0.0.1:8189' },
    ]);
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ LOG_LEVEL: '', HTTP_PORT: '' }).log.level).toBe('info');
  });

  it.each([
    ['DISCORD_TOKEN', 'short', /DISCORD_TOKEN: looks too short.*e\.g\. DISCORD_TOKEN=/],
    [
      'DISCORD_APPLICATION_ID',
      'abc',
      /DISCORD_APPLICATION_ID: must be a Discord id.*e\.g\. DISCORD_APPLICATION_ID=\d+/,
    ],
    ['DISCORD_GUILD_ID', '12', /DISCORD_GUILD_ID: must be a Discord id/],
    ['DISCORD_API_URL', 'ftp://example', /DISCORD_API_URL: must be an http/],
    ['COMFY_URLS', 'not a url', /COMFY_URLS: "not a url" is not an http/],
    ['COMFY_URLS', 'a=http://127.0.0.1:1,a=http://127.0.0.1:2', /COMFY_URLS: the server name "a" is used twice/],
    ['COMFY_URLS', ',', /COMFY_URLS: lists no server/],
    ['STORE_URL', 'postgres://x', /STORE_URL: must start with sqlite:\/\/ or redis:\/\//],
    ['LOG_LEVEL', 'loud', /LOG_LEVEL: must be one of fatal, error/],
    ['LOG_FORMAT', 'xml', /LOG_FORMAT: must be one of auto, json, pretty/],
    ['DEFAULT_WORKFLOW', 'a b', /DEFAULT_WORKFLOW: must be a workflow name/],
    ['COMFY_STALL_TIMEOUT_SECONDS', '0', /COMFY_STALL_TIMEOUT_SECONDS: must be at least 1/],
    ['COMFY_PROMPTS_PER_SERVER', '1.5', /COMFY_PROMPTS_PER_SERVER: must be a whole number/],
    ['COMFY_OUTAGE_TIMEOUT_SECONDS', '0', /COMFY_OUTAGE_TIMEOUT_SECONDS: must be at least 1/],
    ['MAX_JOBS_PER_MEMBER', 'many', /MAX_JOBS_PER_MEMBER: /],
    ['MAX_QUEUE_LENGTH', '-3', /MAX_QUEUE_LENGTH: must be at least 1/],
    ['MAX_PROMPT_LENGTH', '9999999', /MAX_PROMPT_LENGTH: must be at most 100000/],
    ['MAX_ATTACHMENT_MB', '0', /MAX_ATTACHMENT_MB: must be at least 1/],
    ['ALLOWED_CHANNEL_IDS', '1234567890123456789,abc', /ALLOWED_CHANNEL_IDS: must be a Discord id/],
    ['ALLOWED_ROLE_IDS', 'x', /ALLOWED_ROLE_IDS: must be a Discord id/],
    ['REFINE_IGNORE_PREFIX', 'much-too-long-prefix', /REFINE_IGNORE_PREFIX: must be at most 10/],
    ['HTTP_PORT', '70000', /HTTP_PORT: must be a port/],
  ])('rejects a bad %s (%s) with the variable, the reason and an example', (variable, value, expected) => {
    const problems = problemsOf({ [variable]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(expected);
  });

  it('reports every problem at once', () => {
    const problems = problemsOf({ LOG_LEVEL: 'loud', HTTP_PORT: 'x', COMFY_URLS: 'nope' }, true);
    expect(problems.map((problem) => problem.split(':')[0]).sort()).toEqual(['COMFY_URLS', 'HTTP_PORT', 'LOG_LEVEL']);
  });
});

describe('readEnvironment', () => {
  it('reads a .env file and lets the real environment win', () => {
    const dir = mkdtempSync(join(tmpdir(), 'comfycord-env-'));
    const file = join(dir, '.env');
    writeFileSync(file, 'LOG_LEVEL=debug\nMAX_QUEUE_LENGTH=7\n');
    const env = readEnvironment({ LOG_LEVEL: 'warn' }, file);
    expect(env.LOG_LEVEL).toBe('warn');
    expect(env.MAX_QUEUE_LENGTH).toBe('7');
  });

  it('works with no .env file at all', () => {
    expect(readEnvironment({ A: '1' }, '/nonexistent/.env')).toEqual({ A: '1' });
  });
});
