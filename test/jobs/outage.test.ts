import { afterEach, describe, expect, it, vi } from 'vitest';
import { OutageTimer, serversDownError } from '../../src/jobs/outage.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('OutageTimer', () => {
  it('fires once every server has been down for the whole timeout', () => {
    vi.useFakeTimers();
    let down = true;
    const onOutage = vi.fn();
    const timer = new OutageTimer(() => down, 1000, onOutage);
    timer.check();
    timer.check();
    vi.advanceTimersByTime(999);
    expect(onOutage).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(onOutage).toHaveBeenCalledTimes(1);
    expect(timer.declared).toBe(true);
    timer.check();
    vi.advanceTimersByTime(5000);
    expect(onOutage).toHaveBeenCalledTimes(1);
    down = false;
    timer.check();
    expect(timer.declared).toBe(false);
  });

  it('does not fire when a server comes back before the timeout', () => {
    vi.useFakeTimers();
    let down = true;
    const onOutage = vi.fn();
    const timer = new OutageTimer(() => down, 1000, onOutage);
    timer.check();
    vi.advanceTimersByTime(500);
    down = false;
    timer.check();
    vi.advanceTimersByTime(5000);
    expect(onOutage).not.toHaveBeenCalled();
    expect(timer.declared).toBe(false);
  });

  it('starts again from zero after a server came and went', () => {
    vi.useFakeTimers();
    let down = true;
    const onOutage = vi.fn();
    const timer = new OutageTimer(() => down, 1000, onOutage);
    timer.check();
    vi.advanceTimersByTime(800);
    down = false;
    timer.check();
    down = true;
    timer.check();
    vi.advanceTimersByTime(800);
    expect(onOutage).not.toHaveBeenCalled();
    vi.advanceTimersByTime(200);
    expect(onOutage).toHaveBeenCalledTimes(1);
  });
});

describe('serversDownError', () => {
  it('tells the member in one sentence and keeps the detail for the log', () => {
    const error = serversDownError('every ComfyUI server is down');
    expect(error.identifier).toBe('servers-down');
    expect(error.userMessage).toBe('The image servers cannot be reached right now; please try again in a few minutes.');
    expect(error.message).toBe('every ComfyUI server is down');
  });
});
