// The ways bench:storage writes positions: the hub's own writer (hub/rows/commit-rows.ts), the bare
// COPY it is measured against, and the other writers --write-variants compares (unnest INSERT,
// joined text parameters, COPY per batch, COPY into a temp table), each a transaction per batch.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import type { Database } from '../../storage/database.js';
import { commitRows } from '../../hub/rows/commit-rows.js';
import { emptyRows, type PositionRow } from '../../hub/rows/row-types.js';
import { DAY0 } from './storage-history.js';

const tsv = (v: number | string | null) => (v === null ? '\\N' : String(v));
const COLS = 'device_id, ts, worker_id, lat, lon, acc, alt, speed, heading, battery, seq';
const copyText = (rows: PositionRow[]) =>
  rows
    .map(
      (r) =>
        `${[r.deviceId, new Date(r.ts).toISOString(), r.workerId, r.lat, r.lon, r.acc, r.alt, r.speed, r.heading, r.battery, r.seq]
          .map(tsv)
          .join('\t')}\n`,
    )
    .join('');

/** The baseline: one COPY … FROM STDIN of all rows, text format, generated `batch` rows at a time. */
export async function bareCopy(db: Database, rows: PositionRow[], batch: number): Promise<void> {
  const client = await db.pool.connect();
  try {
    const stream = client.query(copyFrom(`COPY positions (${COLS}) FROM STDIN`));
    async function* lines() {
      for (let i = 0; i < rows.length; i += batch) yield copyText(rows.slice(i, i + batch));
    }
    await pipeline(Readable.from(lines()), stream);
  } finally {
    client.release();
  }
}

/**
 * The hub's path (hub/rows/commit-rows.ts), batches of `batch` rows: positions by COPY on a
 * server, falling back to INSERT … ON CONFLICT for a batch that repeats a fix; unnest INSERT on the
 * embedded engine. Returns how many batches fell back.
 */
export async function writerPath(db: Database, rows: PositionRow[], batch: number, opts: { live?: boolean } = {}): Promise<number> {
  let fallbacks = 0;
  // History is late by definition: every batch marks its (worker, hour)s' packed trails stale, as a
  // store-and-forward upload would. `live` writes it as if its hours were current (no marking).
  const now = opts.live ? DAY0 : Date.now();
  for (let i = 0; i < rows.length; i += batch) {
    const out = await commitRows(db.pool, { ...emptyRows(), positions: rows.slice(i, i + batch) }, { copy: db.engine === 'server', now });
    if (out.copyFellBack) fallbacks++;
  }
  return fallbacks;
}

/**
 * Other writers, for comparison with the hub's, each a transaction
 * per batch like the hub's. `conflict`: ON CONFLICT DO NOTHING (the hub's idempotency).
 */
export async function unnestPath(db: Database, rows: PositionRow[], batch: number, conflict: boolean): Promise<void> {
  const client = await db.pool.connect();
  try {
    for (let i = 0; i < rows.length; i += batch) {
      const p = rows.slice(i, i + batch);
      await client.query('BEGIN');
      await client.query(
        `INSERT INTO positions (${COLS})
         SELECT dev, to_timestamp(t / 1000.0), w, la, lo, ac, al, sp, hd, bt, sq
           FROM unnest($1::text[], $2::float8[], $3::text[], $4::float8[], $5::float8[], $6::real[], $7::real[],
                       $8::real[], $9::real[], $10::real[], $11::bigint[]) AS u(dev, t, w, la, lo, ac, al, sp, hd, bt, sq)
         ${conflict ? 'ON CONFLICT DO NOTHING' : ''}`,
        [
          p.map((r) => r.deviceId),
          p.map((r) => r.ts),
          p.map((r) => r.workerId),
          p.map((r) => r.lat),
          p.map((r) => r.lon),
          p.map((r) => r.acc),
          p.map((r) => r.alt),
          p.map((r) => r.speed),
          p.map((r) => r.heading),
          p.map((r) => r.battery),
          p.map((r) => r.seq),
        ],
      );
      await client.query('COMMIT');
    }
  } finally {
    client.release();
  }
}

/**
 * The hub's statement with each column sent as one joined text parameter (unit separator, '' for
 * NULL) split by string_to_array in the server, instead of node-pg's per-element array literals.
 */
export async function joinedTextPath(db: Database, rows: PositionRow[], batch: number): Promise<void> {
  const client = await db.pool.connect();
  const SEP = '\x1f';
  const col = (p: PositionRow[], f: (r: PositionRow) => string | number | null) => p.map((r) => f(r) ?? '').join(SEP);
  const arr = (n: number, type: string) => `string_to_array($${n}, E'\\x1f', '')::${type}[]`;
  try {
    for (let i = 0; i < rows.length; i += batch) {
      const p = rows.slice(i, i + batch);
      await client.query('BEGIN');
      await client.query(
        `INSERT INTO positions (${COLS})
         SELECT dev, to_timestamp(t / 1000.0), w, la, lo, ac, al, sp, hd, bt, sq
           FROM unnest(${arr(1, 'text')}, ${arr(2, 'float8')}, ${arr(3, 'text')}, ${arr(4, 'float8')}, ${arr(5, 'float8')}, ${arr(6, 'real')},
                       ${arr(7, 'real')}, ${arr(8, 'real')}, ${arr(9, 'real')}, ${arr(10, 'real')}, ${arr(11, 'bigint')}) AS u(dev, t, w, la, lo, ac, al, sp, hd, bt, sq)
         ON CONFLICT DO NOTHING`,
        [
          col(p, (r) => r.deviceId),
          col(p, (r) => r.ts),
          col(p, (r) => r.workerId),
          col(p, (r) => r.lat),
          col(p, (r) => r.lon),
          col(p, (r) => r.acc),
          col(p, (r) => r.alt),
          col(p, (r) => r.speed),
          col(p, (r) => r.heading),
          col(p, (r) => r.battery),
          col(p, (r) => r.seq),
        ],
      );
      await client.query('COMMIT');
    }
  } finally {
    client.release();
  }
}

/** COPY per batch: straight into positions (not idempotent), or into a temp table then INSERT … ON CONFLICT DO NOTHING. */
export async function copyPath(db: Database, rows: PositionRow[], batch: number, staged: boolean): Promise<void> {
  const client = await db.pool.connect();
  try {
    if (staged)
      await client.query(`CREATE TEMP TABLE IF NOT EXISTS positions_stage (LIKE positions INCLUDING DEFAULTS) ON COMMIT DELETE ROWS`);
    for (let i = 0; i < rows.length; i += batch) {
      await client.query('BEGIN');
      const stream = client.query(copyFrom(`COPY ${staged ? 'positions_stage' : 'positions'} (${COLS}) FROM STDIN`));
      await pipeline(Readable.from([copyText(rows.slice(i, i + batch))]), stream);
      if (staged) await client.query(`INSERT INTO positions SELECT * FROM positions_stage ON CONFLICT DO NOTHING`);
      await client.query('COMMIT');
    }
    if (staged) await client.query('DROP TABLE positions_stage');
  } finally {
    client.release();
  }
}
