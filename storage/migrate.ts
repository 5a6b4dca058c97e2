// Versioned migrations: storage/migrations/NNN_name.sql always run, NNN_name.timescale.sql only
// where the extension is enabled. Each runs once, in order, in its own transaction.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import type { Logger } from '../common/logger.js';
import { withTransaction } from './database-transaction.js';

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

export interface Migration {
  version: number;
  name: string;
  timescaleOnly: boolean;
  sql: string;
}

export function listMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{3}_[a-z0-9_]+(\.timescale)?\.sql$/.test(f))
    .sort()
    .map((f) => ({
      version: Number(f.slice(0, 3)),
      name: f.replace(/\.sql$/, ''),
      timescaleOnly: f.endsWith('.timescale.sql'),
      sql: readFileSync(dir + f, 'utf8'),
    }));
}

export async function migrate(pool: pg.Pool, opts: { timescale: boolean }, logger: Logger): Promise<string[]> {
  const log = logger.child({ mod: 'migrate' });
  await pool.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
    name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
  const done = new Set((await pool.query<{ name: string }>('SELECT name FROM schema_migrations')).rows.map((r) => r.name));
  const applied: string[] = [];
  for (const m of listMigrations()) {
    if (done.has(m.name) || (m.timescaleOnly && !opts.timescale)) continue;
    try {
      await withTransaction(pool, async (client) => {
        await client.query(m.sql);
        await client.query('INSERT INTO schema_migrations (name) VALUES ($1)', [m.name]);
      });
    } catch (err) {
      throw new Error(`migration ${m.name} failed: ${(err as Error).message}`);
    }
    applied.push(m.name);
    log.info({ migration: m.name }, 'migration applied');
  }
  return applied;
}
