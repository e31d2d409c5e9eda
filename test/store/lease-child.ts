/**
 * A process that takes the runner lease the way `npm start` does (`holdRunnerLease`), for the lease tests: it prints
 * `held` once it holds the lease (then `waited <ms> ms`: how long taking it took, on its own clock, without its own
 * start) and then runs until killed; when refused, it prints the error and exits with 1.
 * Usage: tsx test/store/lease-child.ts <store url> <ttl ms>
 */
import { silentLogger } from '../../src/logger.js';
import { openStore } from '../../src/store/open-store.js';
import { holdRunnerLease } from '../../src/store/runner-lease.js';

const [url, ttl] = process.argv.slice(2);
const store = await openStore(url!, silentLogger());
try {
  const asked = Date.now();
  await holdRunnerLease(store, silentLogger(), { ttlMs: Number(ttl) });
  process.stdout.write(`held\nwaited ${Date.now() - asked} ms\n`);
  setInterval(() => undefined, 60_000);
} catch (error) {
  process.stdout.write(`${error instanceof Error ? error.message : String(error)}\n`);
  await store.close();
  process.exit(1);
}
