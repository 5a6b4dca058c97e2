// bench:storage — a scaled position history through our writer path vs a bare COPY of the same
// rows into the same server in the same run, full-day trail query p50/p99 (with the read path of
// before as the same-run baseline), the hourly rollup, on-disk bytes per fix with and without
// compression, and the governance KPIs for a district month and the screen tiles.
// Prints markdown tables for BENCHMARKS.md. This file opens the engines; what is measured, and
// how, is in bench/storage/ (one file per measurement).
// Usage: npm run bench:storage -- --help
import os from 'node:os';
import { silentLogger } from '../common/logger.js';
import { openDatabase, type Database } from '../storage/database.js';
import { scratchDatabase, startPostgres } from '../testkit/postgres-server.js';
import { parseStorageBenchArgs } from './storage/storage-options.js';
import { history } from './storage/storage-history.js';
import { writeVariants } from './storage/write-variants.js';
import { type Result, runEngine } from './storage/engine-run.js';
import { printReport } from './storage/storage-report.js';

const parsed = parseStorageBenchArgs(process.argv.slice(2));
if ('exit' in parsed) {
  (parsed.exit === 0 ? console.log : console.error)(parsed.out);
  process.exit(parsed.exit);
}
const o = parsed;

if (o.writeVariants) {
  const server = await startPostgres({ settings: { shared_buffers: '256MB', max_wal_size: '2GB' } });
  const db = await openDatabase({ DATABASE_URL: server.url, DATA_DIR: '' }, silentLogger, { timeouts: false });
  try {
    const cpu = os.cpus();
    console.log(
      `Machine: ${cpu.length} × ${cpu[0]?.model ?? 'cpu'}, Node ${process.version}; load average ${os
        .loadavg()
        .map((x) => x.toFixed(1))
        .join(' / ')} at the start.`,
    );
    await writeVariants(db, history(o.workers, o.days), o);
    console.log(
      `load average ${os
        .loadavg()
        .map((x) => x.toFixed(1))
        .join(' / ')} at the end.`,
    );
  } finally {
    await db.close();
    await server.stop();
  }
  process.exit(0);
}

const results: Result[] = [];
if (o.engine !== 'embedded') {
  // A bulk load and whole-table statements: no deadlines (the hub's are for its own short statements).
  const given = o.databaseUrl;
  const server = given
    ? await scratchDatabase(given, 'gdh_bench')
    : await startPostgres({ settings: { shared_buffers: '256MB', max_wal_size: '2GB' } });
  const stopServer = () => ('drop' in server ? server.drop() : server.stop());
  let db: Database | null = null;
  try {
    db = await openDatabase({ DATABASE_URL: server.url, DATA_DIR: '' }, silentLogger, { timeouts: false });
    const version = (await db.pool.query<{ v: string }>(`SELECT current_setting('server_version') AS v`)).rows[0].v;
    let flavour = 'plain';
    if (db.timescale) {
      flavour = `TimescaleDB ${(await db.pool.query<{ v: string }>(`SELECT extversion AS v FROM pg_extension WHERE extname = 'timescaledb'`)).rows[0].v}`;
      // The history is months old: the server's own scheduler would compress it mid-run (and skew
      // the uncompressed samples). This scratch database's jobs are the bench's to pause.
      await db.pool.query(`SELECT alter_job(job_id, scheduled => false) FROM timescaledb_information.jobs WHERE job_id >= 1000`);
    }
    results.push(await runEngine(`PostgreSQL ${version} (${flavour}${given ? ', --database-url' : ''})`, db, o.workers, o.days, o));
  } finally {
    await db?.close();
    await stopServer();
  }
}
if (o.engine !== 'pg') {
  const db = await openDatabase({ DATA_DIR: '' }, silentLogger, { inMemory: true, timeouts: false });
  try {
    results.push(await runEngine('embedded PGlite + TimescaleDB (WASM)', db, o.embeddedWorkers, 1, o));
  } finally {
    await db.close();
  }
}
printReport(results, o);
