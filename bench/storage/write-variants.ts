// --write-variants: the writer/COPY ratio decomposed on a PostgreSQL server started here. Every
// variant loads the same rows into an empty positions table next to its own bare COPY, with the
// covering index of 011 and with the narrower index it replaced, timed by wall clock and by the CPU
// the client and every server process spent (read from /proc, Linux only).
import { readFileSync, readdirSync } from 'node:fs';
import type { Database } from '../../storage/database.js';
import type { PositionRow } from '../../hub/rows/row-types.js';
import type { StorageBenchOptions } from './storage-options.js';
import { variantBatch } from './storage-options.js';
import { f0, pct, timed } from './storage-history.js';
import { bareCopy, copyPath, joinedTextPath, unnestPath, writerPath } from './write-paths.js';

/** utime + stime (+ reaped children for the postmaster) of a process, in ms, from /proc (Linux). */
function procCpuMs(pid: number, withChildren: boolean): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8')
      .slice(readFileSync(`/proc/${pid}/stat`, 'utf8').lastIndexOf(')') + 2)
      .split(' ');
    // Fields after the command: state(3) ppid(4) … utime(14) stime(15) cutime(16) cstime(17), 1-based in proc(5).
    const t = Number(f[11]) + Number(f[12]) + (withChildren ? Number(f[13]) + Number(f[14]) : 0);
    return (t * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return 0;
  }
}

/** CPU of the whole server (postmaster, its live children, and the children it reaped), in ms. */
function serverCpuMs(postmaster: number): number {
  let sum = procCpuMs(postmaster, true);
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = readFileSync(`/proc/${d}/stat`, 'utf8');
      if (Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]) === postmaster) sum += procCpuMs(Number(d), false);
    } catch {
      // gone
    }
  }
  return sum;
}

/**
 * The writer/COPY ratio decomposed (PostgreSQL): every variant loads the same rows into an empty
 * positions table, interleaved with a bare COPY in every round, with the covering index of 011 and
 * with the narrower index it replaced. Prints rows/s medians and ratio medians (per round).
 */
export async function writeVariants(db: Database, rows: PositionRow[], o: StorageBenchOptions): Promise<void> {
  const rounds = o.rounds;
  const BATCH = variantBatch(o);
  const variants: [string, (rs: PositionRow[]) => Promise<void>][] = [
    ['bare COPY, one statement (baseline)', (rs) => bareCopy(db, rs, BATCH)],
    [`hub writer: COPY per batch, INSERT ON CONFLICT on a duplicate, ${BATCH}/tx`, async (rs) => void (await writerPath(db, rs, BATCH))],
    [
      `hub writer, fixes of the current hour (no stale trail hours to mark), ${BATCH}/tx`,
      async (rs) => void (await writerPath(db, rs, BATCH, { live: true })),
    ],
    [`unnest INSERT, ON CONFLICT, ${BATCH}/tx (the writer before)`, (rs) => unnestPath(db, rs, BATCH, true)],
    [`unnest, no ON CONFLICT, ${BATCH}/tx`, (rs) => unnestPath(db, rs, BATCH, false)],
    [`unnest of joined text params, ON CONFLICT, ${BATCH}/tx`, (rs) => joinedTextPath(db, rs, BATCH)],
    [`unnest, ON CONFLICT, 10000/tx`, (rs) => unnestPath(db, rs, 10_000, true)],
    [`COPY per batch, ${BATCH}/tx (not idempotent)`, (rs) => copyPath(db, rs, BATCH, false)],
    [`COPY to temp + INSERT ON CONFLICT, ${BATCH}/tx`, (rs) => copyPath(db, rs, BATCH, true)],
    [`COPY to temp + INSERT ON CONFLICT, 10000/tx`, (rs) => copyPath(db, rs, 10_000, true)],
  ];
  const indexes: [string, string][] = [
    [
      'covering (worker_id, ts) INCLUDE (device_id, lat, lon)',
      'CREATE INDEX positions_worker_ts_cover_idx ON positions (worker_id, ts) INCLUDE (device_id, lat, lon)',
    ],
    ['narrow (worker_id, ts DESC)', 'CREATE INDEX positions_worker_ts_cover_idx ON positions (worker_id, ts DESC)'],
  ];
  // The fallback works: the same rows again (every batch repeats) change nothing and fail nothing.
  await db.pool.query('TRUNCATE positions');
  await writerPath(db, rows.slice(0, 3 * BATCH), BATCH);
  const again = await writerPath(db, rows.slice(BATCH, 5 * BATCH), BATCH);
  const stored = (await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM positions')).rows[0].n;
  if (again !== 2 || stored !== Math.min(rows.length, 5 * BATCH)) throw new Error(`writer fallback: ${again} fallbacks, ${stored} rows`);
  const rps: Record<string, number[]> = {};
  const ratios: Record<string, number[]> = {};
  const cpuRatios: Record<string, number[]> = {};
  const cpuPerRow: Record<string, number[]> = {};
  // Wall time on a shared 2-core box swings ±50 % with other jobs; CPU seconds spent (this client
  // plus every server process) do not, and on a dedicated machine throughput follows them.
  const pid = (await db.pool.query<{ p: number }>('SELECT pg_backend_pid() AS p')).rows[0].p;
  const postmaster = Number(
    readFileSync(`/proc/${pid}/stat`, 'utf8')
      .slice(readFileSync(`/proc/${pid}/stat`, 'utf8').lastIndexOf(')') + 2)
      .split(' ')[1],
  );
  const load = async (fn: (rs: PositionRow[]) => Promise<void>) => {
    await db.pool.query('TRUNCATE positions');
    await db.pool.query('CHECKPOINT');
    const c0 = process.cpuUsage();
    const s0 = serverCpuMs(postmaster);
    const ms = (await timed(() => fn(rows))).ms;
    const c = process.cpuUsage(c0);
    const cpu = (c.user + c.system) / 1000 + serverCpuMs(postmaster) - s0;
    return { rps: rows.length / (ms / 1000), cpu };
  };
  // Every variant is measured next to its own bare COPY (order alternating, ABBA), so a load
  // swing from the other jobs on this machine hits the pair alike; the ratio is per pair.
  for (let round = 0; round < rounds; round++) {
    for (const [iname, ddl] of indexes) {
      await db.pool.query('DROP INDEX IF EXISTS positions_worker_ts_cover_idx');
      await db.pool.query(ddl);
      if (o.coveringOnly && iname !== indexes[0][0]) continue;
      for (const [vname, fn] of variants.slice(1)) {
        if (o.only && !vname.includes(o.only)) continue;
        const copyFirst = round % 2 === 0;
        const a = await load(copyFirst ? variants[0][1] : fn);
        const b = await load(copyFirst ? fn : variants[0][1]);
        const [base, v] = copyFirst ? [a, b] : [b, a];
        const key = `${iname} | ${vname}`;
        const bkey = `${iname} | ${variants[0][0]}`;
        (rps[key] ??= []).push(v.rps);
        (rps[bkey] ??= []).push(base.rps);
        (ratios[key] ??= []).push(v.rps / base.rps);
        (cpuRatios[key] ??= []).push(base.cpu / v.cpu);
        (cpuPerRow[key] ??= []).push((v.cpu * 1000) / rows.length);
        (cpuPerRow[bkey] ??= []).push((base.cpu * 1000) / rows.length);
        console.error(
          `round ${round} ${key}: ${f0(v.rps)} rows/s (COPY ${f0(base.rps)}), wall ratio ${(v.rps / base.rps).toFixed(2)}, CPU ${f0(v.cpu)} ms (COPY ${f0(base.cpu)}), CPU ratio ${(base.cpu / v.cpu).toFixed(2)}`,
        );
      }
    }
  }
  await db.pool.query('TRUNCATE positions');
  await db.pool.query('DROP INDEX IF EXISTS positions_worker_ts_cover_idx');
  await db.pool.query(indexes[0][1]);
  console.log(
    `\nWrite path variants, ${f0(rows.length)} rows, ${rounds} rounds (median rows/s; median of per-round ratios to the bare COPY of the same round):\n`,
  );
  console.log(
    '| index on positions | variant | rows/s | wall ratio to its paired bare COPY (per round) | CPU µs/row (client + server) | CPU ratio: COPY CPU / variant CPU (per round) |',
  );
  console.log('|---|---|---:|---:|---:|---:|');
  for (const key of Object.keys(rps)) {
    const q = ratios[key];
    const c = cpuRatios[key];
    const per = (xs: number[] | undefined) => (xs ? xs.map((x) => x.toFixed(2)).join(', ') : '');
    console.log(
      `| ${key} | ${f0(pct(rps[key], 50))} | ${q ? `**${pct(q, 50).toFixed(2)}** (${per(q)})` : 'baseline'} | ${pct(cpuPerRow[key], 50).toFixed(1)} | ${c ? `**${pct(c, 50).toFixed(2)}** (${per(c)})` : 'baseline'} |`,
    );
  }
}
