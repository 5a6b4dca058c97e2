// bench:storage's command line, parsed once into a frozen options object the measurements take as
// an argument (no module reads argv but the entry point).
import { parseArgs } from 'node:util';
import { defaultBatchRows } from '../../hub/rows/commit-rows.js';
import type { Database } from '../../storage/database.js';

export const USAGE = `Usage: npm run bench:storage -- [options]

A scaled position history through the hub's writer against a bare COPY, trail query p50/p99, the
hourly rollup, bytes per fix with and without compression, and the governance KPIs; prints
markdown tables for BENCHMARKS.md.

  --engine pg|embedded|both   which engines (default both; pg = a PostgreSQL server)
  --database-url URL          the server for --engine pg/both: one you already run (TimescaleDB or
                              plain), in a scratch database created for the run and dropped after
                              (the role needs CREATEDB). Default: a plain PostgreSQL started here
  --workers N                 workers on the server (default 100), one fix per 10 s each
  --days N                    days of history on the server (default 1)
  --embedded-workers N        workers on the embedded engine (default 100, one day)
  --batch N                   writer batch rows (default: the hub's, 5000 server / 2000 embedded)
  --queries N                 trail samples (default 200)
  --incidents-per-day N       governance incidents per day for the KPIs (default 1300)
  --kpi-queries N             samples per KPI report (default 30)
  --kpi-only                  only the governance KPIs
  --no-kpis                   everything but the governance KPIs
  --write-variants            only the write-path experiment (a server started here), --rounds times
  --rounds N                  rounds of --write-variants (default 3)
  --only TEXT                 with --write-variants: the variants whose name contains TEXT
  --covering-only             with --write-variants: only the covering index
  -h, --help                  this text`;

export interface StorageBenchOptions {
  engine: string;
  databaseUrl: string | undefined;
  workers: number;
  days: number;
  embeddedWorkers: number;
  /** --batch as given; null = the hub's default per engine. */
  batch: number | null;
  queries: number;
  incidentsPerDay: number;
  kpiQueries: number;
  /** Only the governance KPIs (both engines unless --engine): fast path against raw path. */
  kpiOnly: boolean;
  /** Everything but the governance KPIs (the positions: writes, trails, bytes). */
  noKpis: boolean;
  /** Only the write-path experiment (PostgreSQL): writer variants against bare COPY, --rounds times. */
  writeVariants: boolean;
  rounds: number;
  /** With --write-variants: only the variants whose name contains this text (and the bare COPY). */
  only: string | undefined;
  /** With --write-variants: only the covering index of migration 011 (not also the narrow one). */
  coveringOnly: boolean;
}

/** The options, or what to print and the exit code (help, a bad option, a bad combination). */
export function parseStorageBenchArgs(argv: string[]): StorageBenchOptions | { exit: number; out: string } {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        workers: { type: 'string', default: '100' },
        days: { type: 'string', default: '1' },
        engine: { type: 'string', default: 'both' },
        'embedded-workers': { type: 'string', default: '100' },
        batch: { type: 'string' },
        queries: { type: 'string', default: '200' },
        'incidents-per-day': { type: 'string', default: '1300' },
        'kpi-queries': { type: 'string', default: '30' },
        'write-variants': { type: 'boolean', default: false },
        'kpi-only': { type: 'boolean', default: false },
        'no-kpis': { type: 'boolean', default: false },
        rounds: { type: 'string', default: '3' },
        only: { type: 'string' },
        'covering-only': { type: 'boolean', default: false },
        /** A server someone already runs; a scratch database on it. */
        'database-url': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    return { exit: 2, out: `${(err as Error).message}\n\n${USAGE}` };
  }
  if (values.help) return { exit: 0, out: USAGE };
  if (values['database-url'] && values['write-variants']) {
    // It reads the server's CPU time from /proc, which only a server on this machine has.
    return { exit: 2, out: '--write-variants runs on a PostgreSQL server it starts here; leave out --database-url' };
  }
  return Object.freeze({
    engine: values.engine,
    databaseUrl: values['database-url'],
    workers: Number(values.workers),
    days: Number(values.days),
    embeddedWorkers: Number(values['embedded-workers']),
    batch: values.batch ? Number(values.batch) : null,
    queries: Number(values.queries),
    incidentsPerDay: Number(values['incidents-per-day']),
    kpiQueries: Number(values['kpi-queries']),
    kpiOnly: values['kpi-only'],
    noKpis: values['no-kpis'],
    writeVariants: values['write-variants'],
    rounds: Number(values.rounds),
    only: values.only,
    coveringOnly: values['covering-only'],
  });
}

/** The write variants' batch size: --batch, else the hub's server default. */
export const variantBatch = (o: StorageBenchOptions): number => o.batch ?? defaultBatchRows(true);

/** The hub's path uses the hub's default per engine unless --batch is given. */
export const writerBatch = (o: StorageBenchOptions, db: Database): number => o.batch ?? defaultBatchRows(db.engine === 'server');
