/**
 * Where webhooks may point: only to hosts or URL prefixes the operator listed in WEB_WEBHOOK_ALLOW, only when a
 * signing secret is configured, and only to addresses on the internet: a listed name that resolves to this machine,
 * the metadata address or an internal network is refused unless the operator listed that network in
 * WEB_WEBHOOK_PRIVATE_NETWORKS (webhook-addresses.ts).
 */
import { ApiProblem } from './problem.js';
import type { WebhookCheck } from './generations.js';
import type { AddressGuard } from './webhook-addresses.js';

/** The operator's rules for webhook URLs. */
export interface WebhookPolicy {
  /** For a request's `webhook`: the list, then the host's addresses; throws a 422 problem with a sentence. */
  readonly check: WebhookCheck;
  /** The list alone, checked again before every try (the operator may have changed it): the refusal, or undefined. */
  unlisted(url: string): string | undefined;
}

/** The policy of the operator's allow-list, with `guard` judging addresses. */
export function webhookPolicy(
  allow: readonly string[],
  secret: string | undefined,
  guard: AddressGuard,
): WebhookPolicy {
  const entries = allow.map((entry) => entry.toLowerCase());
  const checkListed = (raw: string): URL => {
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
    return url;
  };
  return {
    check: async (raw) => {
      const url = checkListed(raw);
      const addresses = await guard.permittedAddresses(url.hostname).catch(() => {
        throw new ApiProblem(422, 'webhook-unresolvable', `The webhook's host ${url.hostname} could not be resolved.`);
      });
      if (addresses.length === 0) {
        throw new ApiProblem(
          422,
          'webhook-refused',
          `Webhooks may not be sent to ${url.host}: it resolves to a private address, and the operator allows those ` +
            'only in WEB_WEBHOOK_PRIVATE_NETWORKS.',
        );
      }
    },
    unlisted: (raw) => {
      try {
        checkListed(raw);
        return undefined;
      } catch (error) {
        return error instanceof Error ? error.message : String(error);
      }
    },
  };
}
