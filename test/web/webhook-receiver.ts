/**
 * A webhook receiver on 127.0.0.1 for the web tests: it keeps every request it gets (path, headers, raw body) and
 * answers each as the test says: 204 unless told, a failing status, or never (held open).
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the receiver got. */
export interface ReceivedWebhook {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface WebhookReceiver {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** Every request so far, in order (a test may empty it). */
  readonly received: ReceivedWebhook[];
  close(): Promise<void>;
}

/** Answers a request; the default says 204 No Content. */
export type WebhookAnswer = (response: ServerResponse, webhook: ReceivedWebhook) => void;

/** Starts a receiver on a free port of 127.0.0.1. */
export async function startWebhookReceiver(
  answer: WebhookAnswer = (response) => response.writeHead(204).end(),
): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const webhook = {
        path: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      received.push(webhook);
      answer(response, webhook);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    received,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
