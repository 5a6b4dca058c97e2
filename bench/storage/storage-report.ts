// bench:storage's markdown for BENCHMARKS.md: the machine and the command, then one table per
// measurement (writes and bytes, trail reads, trail packing, KPIs) and the extrapolation to a
// district month.
import os from 'node:os';
import { defaultBatchRows } from '../../hub/rows/commit-rows.js';
import { REBUILD_DAYS_PER_STEP } from '../../hub/analytics/kpi-fast.js';
import { type StorageBenchOptions, variantBatch } from './storage-options.js';
import { TARGET_ROWS, f0, f1, pct } from './storage-history.js';
import { type TrailTimes, WARMUP_CALLS } from './trail-read.js';
import type { Result } from './engine-run.js';

const p50 = (xs: number[]) => pct(xs, 50);
const pp = (xs: number[] | undefined) => (xs && xs.length > 0 ? `${f1(pct(xs, 50))} / ${f1(pct(xs, 99))}` : 'n/a');

function printHeader(o: StorageBenchOptions): void {
  const cpu = os.cpus();
  console.log(`\n### bench:storage — ${new Date().toISOString().slice(0, 10)}\n`);
  console.log(
    `Machine: ${cpu.length} × ${cpu[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}, ${os.platform()}/${os.arch()}; load average ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' / ')} at the end.`,
  );
  console.log(
    `Command: \`npm run bench:storage -- ${o.databaseUrl ? '--database-url … ' : ''}--workers ${o.workers} --days ${o.days} --engine ${o.engine} --embedded-workers ${o.embeddedWorkers} --queries ${o.queries} --kpi-queries ${o.kpiQueries}${o.kpiOnly ? ' --kpi-only' : ''}${o.noKpis ? ' --no-kpis' : ''}\`; one fix per 10 s per worker, writer batches of ${o.batch !== null ? variantBatch(o) : `${defaultBatchRows(true)} rows on a server, ${defaultBatchRows(false)} embedded (the hub's defaults)`}${o.batch !== null ? ' rows' : ''}.\n`,
  );
}

/** Writes and bytes, the trail reads, and the packing of trail hours (not with --kpi-only, which loads none). */
function printPositions(results: Result[]): void {
  console.log(
    '| engine | rows | writer rows/s | bare COPY rows/s | ratio | full-day trail p50 / p99 (ms) | rollup 1 day (ms) | bytes/fix | bytes/fix compressed |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of results) {
    const ratio = r.copyRps ? (r.writerRps / r.copyRps).toFixed(2) : 'n/a';
    console.log(
      `| ${r.engine} | ${f0(r.rows)} (${r.workers} × ${r.days} d) | ${f0(r.writerRps)} | ${f0(r.copyRps)} | ${ratio} | ${pp(r.trail.trail)} | ${f0(r.rollupMs)} | ${f0(r.bytesPerFix)} | ${r.compressedBytesPerFix === null ? 'n/a (no extension)' : f0(r.compressedBytesPerFix)} |`,
    );
  }
  console.log(
    `\nTrail read path, same samples (p50 / p99 ms, after ${WARMUP_CALLS} untimed calls; ratio = baseline p50 / packed hours p50):\n`,
  );
  console.log(
    "| engine | variant | one DataRow per fix (baseline) | positions in one row (021) | packed hours (024, the API's read) | ratio | full trail API |",
  );
  console.log('|---|---|---:|---:|---:|---:|---:|');
  for (const r of results) {
    const line = (variant: string, t: TrailTimes) =>
      console.log(
        `| ${r.engine} | ${variant} | ${pp(t.rowPerFix)} | ${pp(t.raw)} | ${pp(t.packed)} | ${(p50(t.rowPerFix) / p50(t.packed)).toFixed(1)}× | ${pp(t.trail)} |`,
      );
    line('covering index (worker_id, ts) INCLUDE (device_id, lat, lon)', r.trail);
    if (r.oldIndex) line('old index (worker_id, ts DESC)', r.oldIndex);
    if (r.compressedTrail) line('all chunks compressed (no packed hours: past their keep)', r.compressedTrail);
  }
  console.log('\nPacking the trail hours (what the maintenance pass does once an hour has ended):\n');
  console.log('| engine | worker-hours | steps | step p50 / longest (ms) | total (ms) | fixes/s | packed bytes/fix |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const r of results) {
    const total = r.pack.stepMs.reduce((a, b) => a + b, 0);
    console.log(
      `| ${r.engine} | ${f0(r.pack.pairs)} | ${r.pack.stepMs.length} | ${f1(pct(r.pack.stepMs, 50))} / ${f1(Math.max(...r.pack.stepMs))} | ${f0(total)} | ${f0(r.rows / (total / 1000))} | ${f1(r.packedBytesPerFix)} |`,
    );
  }
}

function printKpis(results: Result[]): void {
  console.log(
    '\nGovernance KPIs, district scope (1 district, 10 streets, 100 communities, 3,300 grids, 3,400 workers), one month (p50 / p99 ms; fast = rollup days + raw tail, the default; raw = every incident row, the same-run baseline, interleaved; department and hour are always raw):\n',
  );
  console.log(
    '| engine | incidents | path | total | by region | by category | by department | by day | tiles (uncached) | grid-day rollup, full | region-day rollup, full |',
  );
  console.log('|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of results) {
    const k = r.kpis;
    if (!k) continue;
    console.log(
      `| ${r.engine} | ${f0(k.incidents)} | fast | ${pp(k.report.none)} | ${pp(k.report.region)} | ${pp(k.report.category)} | ${pp(k.report.department)} | ${pp(k.report.day)} | ${pp(k.tiles)} | ${f0(k.rollupMs)} | ${f0(k.regionRollupMs)} (${f0(k.regionRows)} rows; after a tree change: one statement ${f0(k.rebuild.oneStatementMs)}, or ${k.rebuild.stepMs.length} steps of ${REBUILD_DAYS_PER_STEP} days, longest ${f0(Math.max(...k.rebuild.stepMs))}) |`,
    );
    console.log(
      `| ${r.engine} | ${f0(k.incidents)} | raw | ${pp(k.raw.none)} | ${pp(k.raw.region)} | ${pp(k.raw.category)} | ${pp(k.raw.department)} | ${pp(k.raw.day)} | | | |`,
    );
    const ratio = (by: string) => `${(p50(k.raw[by]) / p50(k.report[by])).toFixed(1)}×`;
    console.log(
      `| ${r.engine} | | raw p50 / fast p50 | ${ratio('none')} | ${ratio('region')} | ${ratio('category')} | ${ratio('department')} | ${ratio('day')} | | | |`,
    );
  }
}

function printExtrapolation(results: Result[]): void {
  console.log(`\nExtrapolation to 3,400 workers × 30 days (${f0(TARGET_ROWS)} fixes; live rate 340 fixes/s):`);
  for (const r of results) {
    const hours = TARGET_ROWS / r.writerRps / 3600;
    const gb = (x: number) => ((x * TARGET_ROWS) / 1e9).toFixed(0);
    const compressed = r.compressedBytesPerFix === null ? '' : `, ${gb(r.compressedBytesPerFix)} GB compressed`;
    console.log(
      `- ${r.engine}: bulk reload ≈ ${hours.toFixed(1)} h at the writer rate (live needs 340 rows/s, headroom ×${f0(r.writerRps / 340)}); ${gb(r.bytesPerFix)} GB raw${compressed}; rollup of a district day ≈ ${f0((r.rollupMs * 3400) / r.workers / 1000)} s (linear in workers).`,
    );
  }
}

export function printReport(results: Result[], o: StorageBenchOptions): void {
  printHeader(o);
  if (!o.kpiOnly) printPositions(results);
  if (!o.noKpis) printKpis(results);
  if (!o.kpiOnly) printExtrapolation(results);
}
