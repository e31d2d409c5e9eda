import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRig, type Rig } from '../e2e/harness.js';

let rig: Rig;

beforeAll(async () => {
  rig = await startRig({ env: { HTTP_PORT: '0' } });
});

afterAll(async () => {
  await rig?.close();
});

async function get(path: string): Promise<{ status: number; body: string; type: string | null }> {
  const response = await fetch(`${rig.bot.healthUrl}${path}`);
  return { status: response.status, body: await response.text(), type: response.headers.get('content-type') };
}

async function until<T>(probe: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (accept(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('the health and metrics endpoint', () => {
  it('listens on 127.0.0.1 when HTTP_PORT is set', () => {
    expect(rig.bot.healthUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('answers /healthz with 200 and every check ok when all is well', async () => {
    const health = await until(
      () => get('/healthz'),
      (answer) => answer.status === 200,
    );
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toMatchObject({
      status: 'ok',
      checks: { gateway: 'ok', store: 'ok', comfyui: 'ok' },
    });
  });

  it('describes the fleet on /healthz: this one process on the roll call, with its shard', async () => {
    const health = await until(
      () => get('/healthz'),
      (answer) => (JSON.parse(answer.body) as { fleet?: { status?: string } }).fleet?.status === 'ok',
    );
    const body = JSON.parse(health.body) as { process: string; fleet: unknown };
    expect(body.process).toBe(`${hostname()}-${process.pid}`);
    expect(body.fleet).toMatchObject({
      status: 'ok',
      problems: [],
      shards: { count: 1, missing: [] },
      processes: [
        {
          name: body.process,
          pid: process.pid,
          shards: [0],
          checks: { gateway: 'ok', store: 'ok', comfyui: 'ok' },
          running: 0,
        },
      ],
    });
  });

  it('labels the fleet figures on /metrics with the process name', async () => {
    const metrics = await get('/metrics');
    const name = `${hostname()}-${process.pid}`;
    expect(metrics.body).toContain('comfycord_fleet_processes 1');
    expect(metrics.body).toContain(`comfycord_fleet_process_info{process="${name}",shards="0/1",this_process="1"} 1`);
    expect(metrics.body).toContain(`comfycord_fleet_process_jobs_running{process="${name}"} 0`);
    expect(metrics.body).toContain(`comfycord_fleet_process_healthy{process="${name}"} 1`);
    expect(metrics.body).toContain('comfycord_fleet_shards_missing 0');
  });

  it('counts finished jobs and exposes queue and server gauges on /metrics', async () => {
    const handle = await rig.discord.sendSlashCommand({
      user: rig.discord.member,
      channel: rig.discord.channel,
      name: 'imagine',
      options: { prompt: 'a metric fox --steps 2' },
    });
    await handle.waitForOriginal((message) => message.attachments.length > 0, 15_000);
    const metrics = await until(
      () => get('/metrics'),
      (answer) => answer.body.includes('comfycord_jobs_total{outcome="succeeded"} 1'),
    );
    expect(metrics.type).toMatch(/^text\/plain/);
    expect(metrics.body).toContain('comfycord_jobs_total{outcome="succeeded"} 1');
    expect(metrics.body).toContain('comfycord_queue_length 0');
    expect(metrics.body).toContain('comfycord_server_up{server="emu"} 1');
    expect(metrics.body).toMatch(/comfycord_job_duration_seconds_count\{outcome="succeeded"\} 1/);
    expect(metrics.body).toMatch(/comfycord_job_wait_seconds_count 1/);
  });

  it('counts Discord REST errors on card edits, which go through the interaction webhook', async () => {
    const handle = await rig.discord.sendSlashCommand({
      user: rig.discord.member,
      channel: rig.discord.channel,
      name: 'imagine',
      options: { prompt: 'a rate limited fox --steps 2' },
    });
    const fault = rig.discord.inject({
      method: 'PATCH',
      match: (call) => call.path.includes(`/${handle.token}/messages/`),
      status: 429,
    });
    await handle.waitForOriginal((message) => message.attachments.length > 0, 15_000);
    expect(fault.hits).toBe(1);
    const metrics = await get('/metrics');
    expect(metrics.body).toContain('comfycord_discord_rest_errors_total{method="PATCH",status="429"} 1');
  });

  it('answers 503 with the reason when no ComfyUI server is up, and 200 again when it is back', async () => {
    rig.emulator.faults.refuseConnections(true);
    const down = await until(
      () => get('/healthz'),
      (answer) => answer.status === 503,
      30_000,
    );
    expect(down.status).toBe(503);
    expect(JSON.parse(down.body)).toMatchObject({
      status: 'unhealthy',
      checks: { comfyui: 'no ComfyUI server is up (emu)' },
    });
    rig.emulator.faults.refuseConnections(false);
    const up = await until(
      () => get('/healthz'),
      (answer) => answer.status === 200,
      30_000,
    );
    expect(up.status).toBe(200);
  });

  it('answers 404 for other paths', async () => {
    expect((await get('/nope')).status).toBe(404);
  });
});
