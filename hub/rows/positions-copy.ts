// Positions by COPY … FROM STDIN (text format): the server parses plain lines instead of eleven
// arrays, and COPY skips the per-row executor work of INSERT. bench:storage --write-variants
// measured it against the unnest INSERT: 0.89–0.92 of a bare COPY's throughput against 0.60–0.71.
// COPY has no ON CONFLICT, so a batch that repeats a stored fix fails as a whole with 23505;
// commit-rows.ts then writes that batch with the idempotent INSERT. See docs/decisions/007.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { PositionRow } from './row-types.js';

export const POSITION_COLUMNS = 'device_id, ts, worker_id, lat, lon, acc, alt, speed, heading, battery, seq, in_grid';

/** COPY text format: backslash, tab, newline and carriage return escaped; null is \N. */
function field(v: string | number | null): string {
  if (v === null) return '\\N';
  if (typeof v === 'number') return String(v);
  return v.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}

/** Epoch seconds whose ISO prefix ("2026-12-03T22:45:35.") isoTime holds. */
let isoSecond = Number.NaN;
let isoPrefix = '';

/**
 * The ISO form of a whole epoch ms, as Date#toISOString writes it, without a Date and a formatting
 * per fix: a batch's fixes fall within a few seconds, so the second's prefix is formatted once and
 * each fix adds its milliseconds (positionsCopyText was 1.1 % of a node's busy time at 2,500 fixes/s).
 */
export function isoTime(ms: number): string {
  // Whole ms in four-digit years only (the schema takes 2000..2100); anything else the long way.
  if (!(ms >= 0 && ms < 253402300800000 && Number.isInteger(ms))) return new Date(ms).toISOString();
  const ss = Math.floor(ms / 1000);
  if (ss !== isoSecond) {
    isoSecond = ss;
    isoPrefix = new Date(ss * 1000).toISOString().slice(0, 20);
  }
  const frac = ms - ss * 1000;
  return `${isoPrefix}${frac < 10 ? '00' : frac < 100 ? '0' : ''}${frac}Z`;
}

/** The rows as COPY text. ts is whole epoch ms (the schema truncates), so the ISO form is exact. */
export function positionsCopyText(rows: readonly PositionRow[]): string {
  let out = '';
  for (const r of rows) {
    out += `${field(r.deviceId)}\t${isoTime(r.ts)}\t${field(r.workerId)}\t${r.lat}\t${r.lon}\t${field(r.acc)}\t${field(r.alt)}\t${field(r.speed)}\t${field(r.heading)}\t${field(r.battery)}\t${field(r.seq)}\t${r.inGrid === true ? 't' : r.inGrid === false ? 'f' : '\\N'}\n`;
  }
  return out;
}

/** Rows per piece of COPY text: the server parses one piece while we format the next. */
const PIECE_ROWS = 250;

function* pieces(rows: readonly PositionRow[]): Generator<string> {
  for (let i = 0; i < rows.length; i += PIECE_ROWS) yield positionsCopyText(rows.slice(i, i + PIECE_ROWS));
}

/** One COPY of the rows on this client (needs a dedicated client, not the pool). */
export async function copyPositions(client: pg.PoolClient, rows: readonly PositionRow[]): Promise<void> {
  await pipeline(Readable.from(pieces(rows)), client.query(copyFrom(`COPY positions (${POSITION_COLUMNS}) FROM STDIN`)));
}

/** A unique violation: the batch repeats a fix that is already stored (repeats within it are removed before, commit-rows.ts). */
export function isDuplicate(err: unknown): boolean {
  return (err as { code?: string } | null)?.code === '23505';
}
