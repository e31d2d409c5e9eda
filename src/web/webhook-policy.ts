/**
 * Where webhooks may point: only to hosts or URL prefixes the operator listed in WEB_WEBHOOK_ALLOW, and only when a
 * signing secret is configured. A caller cannot make the bot POST to its own network (loopback, the metadata address,
 * an internal service) unless the operator listed that place by name.
 */
import { ApiProblem } from './problem.js';
import type { WebhookCheck } from './generations.js';

/** The check for `POST /v1/generations`' `webhook`, from the operator's allow-list. */
export function webhookPolicy(allow: readonly string[], secret: string | undefined): WebhookCheck {
  const entries = allow.map((entry) => entry.toLowerCase());
  return (raw) => {
    if (secret === undefined || entries.length === 0) {
      throw new ApiProblem(
        422,
        'webhooks-disabled',
        'This server sends no webhooks (the operator has not configured them); follow the events URL instead.',
      );
    }
    const url = new URL(raw);
    if (url.username !== '' || url.password !== '') {
      throw new ApiProblem(422, 'webhook-refused', 'A webhook URL must not carry a user name or password.');
    }
    const href = url.href.toLowerCase();
    const allowed = entries.some((entry) =>
      /^https?:\/\//.test(entry) ? href.startsWith(entry) : url.host === entry || url.hostname === entry,
    );
    if (!allowed) {
      throw new ApiProblem(
        422,
        'webhook-refused',
        `Webhooks may not be sent to ${url.host}; the operator allows only the hosts listed in WEB_WEBHOOK_ALLOW.`,
      );
    }
  };
}
