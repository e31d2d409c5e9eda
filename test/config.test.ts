import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, CONFIG_VARIABLES, loadConfig, readEnvironment } from '../src/config.js';

/** Every variable the code reads. */
const VARIABLES_READ = CONFIG_VARIABLES;

/** The variables named in the README's configuration table (a row may name two: `HTTP_HOST`, `HTTP_PORT`). */
const VARIABLES_IN_README = (() => {
  const readme = readFileSync('README.md', 'utf8');
  const section = readme.slice(readme.indexOf('## Configuration'));
  const table = section.slice(0, section.indexOf('\n\n', section.indexOf('| variable')));
  return table
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .flatMap((line) => [...(line.split('|')[1] ?? '').matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((match) => match[1] ?? ''));
})();

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
    expect(problems[0]).toMatch(/^DISCORD_TOKEN is not set: the bot needs it to connect to Discord\. Example: /);
    expect(problems[1]).toMatch(/^DISCORD_APPLICATION_ID is not set: .*Example: DISCORD_APPLICATION_ID=\d+/);
    expect(problemsOf({})).toEqual([]);
    expect(
      loadConfig({ DISCORD_TOKEN: TOKEN, DISCORD_APPLICATION_ID: '1234567890123456789' }, { requireDiscord: true })
        .discord.token,
    ).toBe(TOKEN);
  });

  it('names the missing application id even when the token is wrong too', () => {
    const problems = problemsOf({ DISCORD_TOKEN: 'qq7' }, true);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^DISCORD_TOKEN looks too short to be a bot token/);
    expect(problems[0]).not.toContain('qq7');
    expect(problems[1]).toMatch(/^DISCORD_APPLICATION_ID is not set/);
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
    ['DISCORD_TOKEN', 'short', /^DISCORD_TOKEN looks too short to be a bot token.*\. Example: DISCORD_TOKEN=/],
    [
      'DISCORD_APPLICATION_ID',
      'abc',
      /^DISCORD_APPLICATION_ID must be a Discord id.*Example: DISCORD_APPLICATION_ID=\d+/,
    ],
    ['DISCORD_GUILD_ID', '12', /^DISCORD_GUILD_ID must be a Discord id, a number of 17 to 20 digits\. Example: /],
    ['DISCORD_API_URL', 'ftp://example', /^DISCORD_API_URL must be an http:\/\/ or https:\/\/ URL\. Example: /],
    ['COMFY_URLS', 'not a url', /^COMFY_URLS has "not a url", which is not an http:\/\/ or https:\/\/ URL\. Example: /],
    ['COMFY_URLS', 'a=http://127.0.0.1:1,a=http://127.0.0.1:2', /^COMFY_URLS uses the server name "a" twice\. /],
    ['COMFY_URLS', ',', /^COMFY_URLS lists no server\. Example: /],
    ['STORE_URL', 'postgres://x', /^STORE_URL must start with sqlite:\/\/ or redis:\/\/\. Example: STORE_URL=/],
    ['LOG_LEVEL', 'loud', /^LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, not "loud"\. /],
    ['LOG_FORMAT', 'xml', /^LOG_FORMAT must be one of auto, json, pretty, not "xml"\. Example: LOG_FORMAT=auto$/],
    ['DEFAULT_WORKFLOW', 'a b', /^DEFAULT_WORKFLOW must be a workflow name: letters, digits/],
    [
      'COMFY_STALL_TIMEOUT_SECONDS',
      '0',
      /^COMFY_STALL_TIMEOUT_SECONDS must be a whole number from 1 to 86400, not "0"\./,
    ],
    ['COMFY_PROMPTS_PER_SERVER', '1.5', /^COMFY_PROMPTS_PER_SERVER must be a whole number from 1 to 64, not "1\.5"\./],
    ['COMFY_OUTAGE_TIMEOUT_SECONDS', '0', /^COMFY_OUTAGE_TIMEOUT_SECONDS must be a whole number from 1 to 86400/],
    ['MAX_JOBS_PER_MEMBER', 'many', /^MAX_JOBS_PER_MEMBER must be a whole number from 1 to 1000, not "many"\./],
    ['MAX_QUEUE_LENGTH', '-3', /^MAX_QUEUE_LENGTH must be a whole number from 1 to 100000, not "-3"\./],
    ['MAX_PROMPT_LENGTH', '9999999', /^MAX_PROMPT_LENGTH must be a whole number from 1 to 100000, not "9999999"\./],
    ['MAX_ATTACHMENT_MB', '0', /^MAX_ATTACHMENT_MB must be a whole number from 1 to 500/],
    ['ALLOWED_CHANNEL_IDS', '1234567890123456789,abc', /^ALLOWED_CHANNEL_IDS has "abc", which is not a Discord id/],
    ['ALLOWED_ROLE_IDS', 'x', /^ALLOWED_ROLE_IDS has "x", which is not a Discord id/],
    ['REFINE_IGNORE_PREFIX', 'much-too-long-prefix', /^REFINE_IGNORE_PREFIX must be at most 10 characters\. Example: /],
    ['HTTP_PORT', '70000', /^HTTP_PORT must be a whole number from 0 to 65535, not "70000"\. Example: HTTP_PORT=/],
    ['HTTP_PORT', '-1', /^HTTP_PORT must be a whole number from 0 to 65535, not "-1"\./],
  ])('rejects a bad %s (%s) with the variable, the reason and an example', (variable, value, expected) => {
    const problems = problemsOf({ [variable]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(expected);
  });

  it("never words a problem in zod's own terms, whatever the value", () => {
    const badValues = [
      'x',
      '-1',
      '1.5',
      '1e3',
      '99999999999999999999999',
      ' ',
      'ftp://x',
      '=',
      ',,,',
      'http://',
      'NaN',
    ];
    const variables = [...VARIABLES_IN_README];
    for (const variable of variables) {
      for (const value of badValues) {
        for (const problem of problemsOf({ [variable]: value }, true)) {
          expect(problem, `${variable}=${value}`).not.toMatch(/Invalid input|Too (small|big)|expected|received|>=|<=/);
          expect(problem, `${variable}=${value}`).toMatch(/^[A-Z_]+ .+\. Example: [A-Z_]+=/);
        }
      }
    }
  });

  it('reports every problem at once, the missing credentials included', () => {
    const problems = problemsOf({ LOG_LEVEL: 'loud', HTTP_PORT: 'x', COMFY_URLS: 'nope' }, true);
    expect(problems.map((problem) => problem.split(' ')[0])).toEqual([
      'DISCORD_TOKEN',
      'DISCORD_APPLICATION_ID',
      'COMFY_URLS',
      'LOG_LEVEL',
      'HTTP_PORT',
    ]);
  });

  it('names the process after its host and pid unless COMFYCORD_PROCESS_NAME names it', () => {
    expect(loadConfig({}).processName).toMatch(new RegExp(`-${process.pid}$`));
    expect(loadConfig({ COMFYCORD_PROCESS_NAME: 'bot-eu-1' }).processName).toBe('bot-eu-1');
    expect(problemsOf({ COMFYCORD_PROCESS_NAME: 'bot eu/1' })).toEqual([
      expect.stringMatching(/^COMFYCORD_PROCESS_NAME must be 1 to 64 letters, digits, dots, dashes or underscores\. /),
    ]);
  });

  it('runs one shard as discord.js does by default when no shard is configured', () => {
    expect(loadConfig({}).discord.shards).toBeUndefined();
  });

  it('connects every shard of DISCORD_SHARD_COUNT when DISCORD_SHARD_IDS is not set', () => {
    expect(loadConfig({ DISCORD_SHARD_COUNT: '3' }).discord.shards).toEqual({ count: 3, ids: [0, 1, 2] });
  });

  it('connects only the shards of DISCORD_SHARD_IDS out of DISCORD_SHARD_COUNT', () => {
    const config = loadConfig({ DISCORD_SHARD_COUNT: '4', DISCORD_SHARD_IDS: ' 3, 1 ' });
    expect(config.discord.shards).toEqual({ count: 4, ids: [3, 1] });
  });

  it('refuses shard ids without a shard count', () => {
    expect(problemsOf({ DISCORD_SHARD_IDS: '0,1' })).toEqual([
      expect.stringMatching(
        /^DISCORD_SHARD_IDS is set but DISCORD_SHARD_COUNT is not: .*Example: DISCORD_SHARD_COUNT=4/,
      ),
    ]);
  });

  it('lists every shard problem at once: a count below one, an id that is no number, a repeat, an id past the count', () => {
    expect(problemsOf({ DISCORD_SHARD_COUNT: '0', DISCORD_SHARD_IDS: '0' })).toEqual([
      expect.stringMatching(/^DISCORD_SHARD_COUNT must be a whole number from 1 to 65536, not "0"\. Example: /),
    ]);
    expect(problemsOf({ DISCORD_SHARD_COUNT: '2', DISCORD_SHARD_IDS: '1,x,1,2,5', LOG_LEVEL: 'loud' })).toEqual([
      'DISCORD_SHARD_IDS has "x", which is not a shard id (a whole number from 0). Example: DISCORD_SHARD_IDS=0,1 ' +
        '(the shards this process connects; unset: every shard)',
      expect.stringMatching(/^DISCORD_SHARD_IDS lists shard 1 twice\. /),
      expect.stringMatching(/^DISCORD_SHARD_IDS has shard 2, but with DISCORD_SHARD_COUNT=2 the shards are 0 to 1\. /),
      expect.stringMatching(/^DISCORD_SHARD_IDS has shard 5, but with DISCORD_SHARD_COUNT=2 the shards are 0 to 1\. /),
      expect.stringMatching(/^LOG_LEVEL must be one of/),
    ]);
  });

  it('says how many problems there are and lists each on its own line', () => {
    expect(() => loadConfig({ LOG_LEVEL: 'loud' })).toThrow(
      /^The configuration has one problem; fix it and start again:\n {2}- LOG_LEVEL must be one of/,
    );
    expect(() => loadConfig({}, { requireDiscord: true })).toThrow(/^The configuration has 2 problems; fix them/);
  });
});

describe('the configuration documents', () => {
  it('list in the README table every variable the code reads', () => {
    expect(VARIABLES_IN_README.sort()).toEqual([...VARIABLES_READ].sort());
  });

  it('list in .env.example every variable the code reads', () => {
    const example = readFileSync('.env.example', 'utf8');
    const listed = [...example.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((match) => match[1]);
    expect(listed.sort()).toEqual([...VARIABLES_READ].sort());
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
