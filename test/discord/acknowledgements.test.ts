import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { REST, Routes } from 'discord.js';
import { describe, expect, it, vi } from 'vitest';
import { AcknowledgementQueue } from '../../src/discord/acknowledgements.js';
import { createDiscordTransport } from '../../src/discord/rest-transport.js';

/** Records the order in which held work resumes. */
function resumed(queue: AcknowledgementQueue, label: string, order: string[]): Promise<void> {
  return queue.settled().then(() => {
    order.push(label);
  });
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('AcknowledgementQueue', () => {
  it('lets work through at once when nothing waits for an acknowledgement', async () => {
    const queue = new AcknowledgementQueue();
    await expect(queue.settled()).resolves.toBeUndefined();
  });

  it('holds follow-on work until every interaction that arrived before it is acknowledged', async () => {
    const queue = new AcknowledgementQueue();
    const order: string[] = [];
    for (const id of ['1', '2', '3']) queue.arrived(id);
    queue.acknowledged('1');
    const first = resumed(queue, 'work of 1', order);
    queue.acknowledged('3');
    await turn();
    expect(order).toEqual([]);
    queue.acknowledged('2');
    await first;
    expect(order).toEqual(['work of 1']);
    expect(queue.waiting).toBe(0);
  });

  it('does not hold work for interactions that arrived after it asked (no starvation under load)', async () => {
    const queue = new AcknowledgementQueue();
    const order: string[] = [];
    queue.arrived('1');
    queue.arrived('2');
    queue.acknowledged('1');
    const held = resumed(queue, 'work of 1', order);
    queue.arrived('3');
    queue.arrived('4');
    queue.acknowledged('2');
    await held;
    expect(order).toEqual(['work of 1']);
    expect(queue.waiting).toBe(2);
  });

  it('resumes held work in the order it asked', async () => {
    const queue = new AcknowledgementQueue();
    const order: string[] = [];
    for (const id of ['1', '2', '3']) queue.arrived(id);
    queue.acknowledged('2');
    const a = resumed(queue, 'a', order);
    queue.acknowledged('3');
    const b = resumed(queue, 'b', order);
    queue.acknowledged('1');
    await Promise.all([a, b]);
    expect(order).toEqual(['a', 'b']);
  });

  it('holds no work past Discord’s 3-second deadline for an interaction never acknowledged', async () => {
    vi.useFakeTimers();
    try {
      const queue = new AcknowledgementQueue();
      const order: string[] = [];
      queue.arrived('stuck');
      const held = resumed(queue, 'work', order);
      await vi.advanceTimersByTimeAsync(2_900);
      expect(order).toEqual([]);
      await vi.advanceTimersByTimeAsync(200);
      await held;
      expect(order).toEqual(['work']);
    } finally {
      vi.useRealTimers();
    }
  });

  it('ignores an acknowledgement told twice or for an interaction it never saw', async () => {
    const queue = new AcknowledgementQueue();
    queue.arrived('1');
    queue.acknowledged('1');
    queue.acknowledged('1');
    queue.acknowledged('99');
    expect(queue.waiting).toBe(0);
    await expect(queue.settled()).resolves.toBeUndefined();
  });
});

describe('AcknowledgementQueue.watch', () => {
  it('counts an interaction acknowledged when the answer to its callback comes back', async () => {
    const server = createServer((_req, res) => res.writeHead(204).end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const transport = createDiscordTransport();
    const { port } = server.address() as AddressInfo;
    const rest = new REST({ api: `http://127.0.0.1:${port}/api`, makeRequest: transport.makeRequest });
    try {
      const queue = new AcknowledgementQueue();
      queue.watch(rest);
      queue.arrived('111');
      queue.arrived('222');
      await rest.post(Routes.channelMessages('111'), { auth: false });
      expect(queue.waiting).toBe(2);
      await rest.post(Routes.interactionCallback('111', 'a-token'), { auth: false, body: { type: 5 } });
      expect(queue.waiting).toBe(1);
    } finally {
      rest.clearHashSweeper();
      rest.clearHandlerSweeper();
      await transport.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
