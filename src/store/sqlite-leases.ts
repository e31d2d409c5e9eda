/**
 * Leases in the SQLite file's `leases` table. Each operation is one immediate transaction, so two processes opening the
 * same file (the busy timeout makes the second wait for the first) never both hold a lease.
 */
import type { Database } from 'better-sqlite3';
import { z } from 'zod';
import type { LeaseHolder, Leases } from './lease.js';

const holderSchema = z.object({
  id: z.string(),
  pid: z.number(),
  host: z.string(),
  startedAt: z.number(),
  machine: z.string().optional(),
});

interface LeaseRow {
  readonly holder_id: string;
  readonly holder: string;
  readonly expires_at: number;
}

/** The leases of the SQLite store whose connection is `db`. */
export function createSqliteLeases(db: Database): Leases {
  const read = db.prepare<[string], LeaseRow>('SELECT holder_id, holder, expires_at FROM leases WHERE name = ?');
  const write = db.prepare<[string, string, string, number]>(
    'INSERT INTO leases (name, holder_id, holder, expires_at) VALUES (?, ?, ?, ?) ' +
      'ON CONFLICT (name) DO UPDATE SET holder_id = excluded.holder_id, holder = excluded.holder, ' +
      'expires_at = excluded.expires_at',
  );
  // A lapsed lease is not renewed (as on Redis, where the key is gone): its holder must claim it again.
  const extend = db.prepare<[number, string, string, number]>(
    'UPDATE leases SET expires_at = ? WHERE name = ? AND holder_id = ? AND expires_at > ?',
  );
  const replace = db.prepare<[string, string, number, string, string]>(
    'UPDATE leases SET holder_id = ?, holder = ?, expires_at = ? WHERE name = ? AND holder_id = ?',
  );
  const remove = db.prepare<[string, string]>('DELETE FROM leases WHERE name = ? AND holder_id = ?');

  const claim = db.transaction((name: string, holder: LeaseHolder, ttlMs: number) => {
    const now = Date.now();
    const current = read.get(name);
    if (current === undefined || current.expires_at <= now || current.holder_id === holder.id) {
      write.run(name, holder.id, JSON.stringify(holder), now + ttlMs);
      return { acquired: true as const, expiresAt: now + ttlMs };
    }
    return { acquired: false as const, holder: parseHolder(current), expiresAt: current.expires_at };
  });

  return {
    claim: async (name, holder, ttlMs) => claim.immediate(name, holder, ttlMs),
    renew: async (name, holderId, ttlMs) => {
      const now = Date.now();
      return extend.run(now + ttlMs, name, holderId, now).changes > 0;
    },
    takeOver: async (name, staleHolderId, holder, ttlMs) =>
      replace.run(holder.id, JSON.stringify(holder), Date.now() + ttlMs, name, staleHolderId).changes > 0,
    release: async (name, holderId) => {
      remove.run(name, holderId);
    },
    holder: async (name) => {
      const current = read.get(name);
      return current === undefined || current.expires_at <= Date.now() ? undefined : parseHolder(current);
    },
  };
}

function parseHolder(row: LeaseRow): LeaseHolder {
  try {
    const parsed = holderSchema.safeParse(JSON.parse(row.holder));
    if (parsed.success) return parsed.data;
  } catch {
    // Falls through: a hand-edited row still names a holder.
  }
  return { id: row.holder_id, pid: 0, host: 'unknown', startedAt: 0 };
}
