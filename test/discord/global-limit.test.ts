import { describe, expect, it } from 'vitest';
import { countsAgainstGlobalLimit, LocalWindow, SlotQueue } from '../../src/discord/global-limit.js';

describe("the transport's global limit", () => {
  it('leaves interaction callbacks and interaction webhooks out, as Discord does, and counts the rest', () => {
    const api = 'https://discord.com/api/v10';
    expect(countsAgainstGlobalLimit(`${api}/interactions/123/aW50ZXJhY3Rpb24/callback`)).toBe(false);
    expect(countsAgainstGlobalLimit(`${api}/webhooks/456/aW50ZXJhY3Rpb24/messages/@original`)).toBe(false);
    expect(countsAgainstGlobalLimit(`${api}/webhooks/456/aW50ZXJhY3Rpb24?wait=true`)).toBe(false);
    expect(countsAgainstGlobalLimit(`${api}/channels/789/messages`)).toBe(true);
    expect(countsAgainstGlobalLimit(`${api}/channels/789/messages/1/threads`)).toBe(true);
    expect(countsAgainstGlobalLimit(`${api}/gateway/bot`)).toBe(true);
  });

  it('grants a full window at once, then one more only when the oldest grant has left the window', () => {
    const window = new LocalWindow(3, 1000);
    expect([window.trySlot(0), window.trySlot(10), window.trySlot(20)]).toEqual([0, 0, 0]);
    expect(window.trySlot(500)).toBe(500);
    expect(window.trySlot(1000)).toBe(0);
    expect(window.trySlot(1001)).toBe(9);
  });

  it('holds every grant during a pause after a global 429', () => {
    const window = new LocalWindow(3, 1000);
    window.pause(300);
    expect(window.trySlot(100)).toBe(200);
    expect(window.trySlot(300)).toBe(0);
  });

  it('lets no more than the limit through in any window, in the order they asked', async () => {
    // The grant times are the window's own clock readings (as createLocalGlobalLimit composes it): a reading taken
    // later, in the caller's callback, can fall a millisecond after the grant on a loaded machine and show a window
    // with one grant too many that the limit never gave.
    const window = new LocalWindow(5, 200);
    const grantTimes: number[] = [];
    const queue = new SlotQueue(async () => {
      const now = Date.now();
      const waitMs = window.trySlot(now);
      if (waitMs === 0) grantTimes.push(now);
      return waitMs;
    });
    const order: number[] = [];
    await Promise.all(Array.from({ length: 12 }, (_, index) => queue.take().then(() => order.push(index))));
    expect(order).toEqual([...Array(12).keys()]);
    expect(grantTimes).toHaveLength(12);
    for (const [position, at] of grantTimes.entries()) {
      const inWindow = grantTimes.filter((other) => other > at - 200 && other <= at);
      expect(inWindow.length, `grant ${position}`).toBeLessThanOrEqual(5);
    }
    // Twelve grants at five per 200 ms take at least two full windows.
    expect(grantTimes[11]! - grantTimes[0]!).toBeGreaterThanOrEqual(400);
  });

  it('gives up at once a request aborted while its slot was being asked for', async () => {
    const controller = new AbortController();
    // The abort comes during the (Redis) round trip that answers "wait a minute", before any sleep listens for it.
    const queue = new SlotQueue(async () => {
      controller.abort(new Error('timed out'));
      return 60_000;
    });
    const started = Date.now();
    await expect(queue.take(controller.signal)).rejects.toThrow('timed out');
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('gives up the wait of an aborted request without using its slot', async () => {
    let slots = 0;
    const queue = new SlotQueue(async () => (slots++ === 0 ? 50 : 0));
    const controller = new AbortController();
    const aborted = queue.take(controller.signal);
    controller.abort(new Error('timed out'));
    await expect(aborted).rejects.toThrow('timed out');
    await queue.take();
    expect(slots).toBe(2);
  });
});
