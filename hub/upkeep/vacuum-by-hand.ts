// What autovacuum does, for the embedded engine: PGlite runs PostgreSQL in single-user mode, so no
// autovacuum worker ever vacuums or analyzes its tables. Without it the planner never learns the
// chunks' statistics and the visibility map stays empty, so the trail read cannot be index-only.
// Same trigger rules as autovacuum's defaults, per table (each TimescaleDB chunk is its own table).
import { withLongStatements } from '../../storage/database.js';
import { MAINTENANCE_STATEMENT_MS } from './storage-policies.js';
import type pg from 'pg';

export interface VacuumPass {
  vacuumed: string[];
}

// Which tables are due. Autovacuum counts inserted and dead rows in the statistics collector, but
// PGlite never flushes those counters (its backend stays inside one long-lived loop), so growth
// stands in for them: a table is due when it has never been analyzed, or when it has grown by a
// fifth since the last VACUUM or ANALYZE recorded its size (autovacuum_vacuum_insert_scale_factor
// is 0.2 too). Updates and deletes show up as growth as well, until a vacuum frees their space.
const DUE = `
  SELECT format('%I.%I', n.nspname, c.relname) AS name
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
     AND pg_relation_size(c.oid) > 0
     AND (c.reltuples < 0
          OR pg_relation_size(c.oid) / current_setting('block_size')::int > c.relpages * 1.2 + 4)
   ORDER BY n.nspname, c.relname`;

/**
 * VACUUM (ANALYZE) of the tables that are due, one after another until `budgetMs` has passed (the
 * first always runs): on a database that was never vacuumed (one from before this pass existed)
 * every table is due at once, and the embedded engine's one connection would otherwise be held
 * for all of them while ingest waits. What is left is due again next pass. Returns the names.
 */
export async function vacuumByHand(pool: pg.Pool, budgetMs = 5_000, now: () => number = () => performance.now()): Promise<VacuumPass> {
  const started = now();
  const due = await pool.query<{ name: string }>(DUE);
  const out: VacuumPass = { vacuumed: [] };
  // One statement each, outside any transaction block (VACUUM cannot run inside one).
  for (const t of due.rows) {
    if (out.vacuumed.length > 0 && now() - started >= budgetMs) break;
    // A large chunk's VACUUM may outlast the embedded engine's per-query deadline (storage/database.ts).
    await withLongStatements(pool, MAINTENANCE_STATEMENT_MS, (q) => q(`VACUUM (ANALYZE) ${t.name}`));
    out.vacuumed.push(t.name);
  }
  return out;
}
