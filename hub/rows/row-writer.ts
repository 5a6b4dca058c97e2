// Writes one batch of rows in one transaction: one INSERT … SELECT FROM unnest(…) per table,
// ON CONFLICT DO NOTHING, so a redelivered message or re-uploaded fix is the same row.
// Times travel as epoch-ms float8 arrays: cheaper to serialise than ISO strings.
// Valid fixes go to positions, flagged ones (the position filter's) to positions_flagged; a fix
// whose key is stored at another position becomes a dead letter (position-conflicts.ts), found
// by one more query only when an INSERT stored fewer rows than it was given.
import type pg from 'pg';
import type { DeadLetterRow, PositionRow, Rows } from './row-types.js';
import { storedConflicts, type Conflict } from './position-conflicts.js';

const MAX_DEAD_LETTER_BYTES = 4096;

const POSITION_UNNEST = `unnest($1::text[], $2::float8[], $3::text[], $4::float8[], $5::float8[], $6::real[], $7::real[],
                     $8::real[], $9::real[], $10::real[], $11::bigint[], $12::boolean[]`;

function positionParams(p: readonly PositionRow[]): unknown[] {
  return [
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
    p.map((r) => r.inGrid ?? null),
  ];
}

export const isFlagged = (r: PositionRow): boolean => r.flags !== undefined && r.flags.length > 0;

/**
 * Writes the rows; returns the fixes refused as conflicting duplicates of stored ones (already
 * written as dead letters). Rows must not repeat a key among themselves (dedupeBatch).
 */
export async function writeRows(client: Pick<pg.ClientBase, 'query'>, rows: Rows): Promise<Conflict[]> {
  const { events: e, statuses: s, inbox: i } = rows;
  const valid = rows.positions.filter((r) => !isFlagged(r));
  const flagged = valid.length === rows.positions.length ? [] : rows.positions.filter(isFlagged);
  const conflicts: Conflict[] = [];
  if (valid.length > 0) {
    const r = await client.query(
      `INSERT INTO positions (device_id, ts, worker_id, lat, lon, acc, alt, speed, heading, battery, seq, in_grid)
       SELECT dev, to_timestamp(t / 1000.0), w, la, lo, ac, al, sp, hd, bt, sq, ig
         FROM ${POSITION_UNNEST}) AS u(dev, t, w, la, lo, ac, al, sp, hd, bt, sq, ig)
       ON CONFLICT DO NOTHING`,
      positionParams(valid),
    );
    if ((r.rowCount ?? 0) < valid.length) conflicts.push(...(await storedConflicts(client, valid, ['positions'])));
  }
  if (flagged.length > 0) {
    // A key held by a valid fix stays valid: the same fix judged again (against other neighbours)
    // is no new row, another position at that key a conflict.
    const r = await client.query(
      `INSERT INTO positions_flagged (device_id, ts, worker_id, lat, lon, acc, alt, speed, heading, battery, seq, in_grid, flags)
       SELECT dev, to_timestamp(t / 1000.0), w, la, lo, ac, al, sp, hd, bt, sq, ig, string_to_array(fl, ',')
         FROM ${POSITION_UNNEST}, $13::text[]) AS u(dev, t, w, la, lo, ac, al, sp, hd, bt, sq, ig, fl)
        WHERE NOT EXISTS (SELECT 1 FROM positions p WHERE p.device_id = u.dev AND p.ts = to_timestamp(u.t / 1000.0))
       ON CONFLICT DO NOTHING`,
      [...positionParams(flagged), flagged.map((r) => r.flags!.join(','))],
    );
    if ((r.rowCount ?? 0) < flagged.length) conflicts.push(...(await storedConflicts(client, flagged, ['positions', 'positions_flagged'])));
  }
  if (e.length > 0) {
    await client.query(
      `INSERT INTO device_events (device_id, ts, event_key, type, severity, confidence, snapshot, data, lat, lon, grid_code)
       SELECT dev, to_timestamp(t / 1000.0), k, ty, sv, cf, sn, dt::jsonb, la, lo, g
         FROM unnest($1::text[], $2::float8[], $3::text[], $4::text[], $5::text[], $6::real[], $7::text[], $8::text[],
                     $9::float8[], $10::float8[], $11::text[]) AS u(dev, t, k, ty, sv, cf, sn, dt, la, lo, g)
       ON CONFLICT DO NOTHING`,
      [
        e.map((r) => r.deviceId),
        e.map((r) => r.ts),
        e.map((r) => r.eventKey),
        e.map((r) => r.type),
        e.map((r) => r.severity),
        e.map((r) => r.confidence),
        e.map((r) => r.snapshot),
        e.map((r) => (r.data == null ? null : JSON.stringify(r.data))),
        e.map((r) => r.lat),
        e.map((r) => r.lon),
        e.map((r) => r.gridCode),
      ],
    );
  }
  if (s.length > 0) {
    await client.query(
      `INSERT INTO device_status (device_id, ts, kind, duty, battery, online)
       SELECT dev, to_timestamp(t / 1000.0), k, du, bt, onl
         FROM unnest($1::text[], $2::float8[], $3::text[], $4::text[], $5::real[], $6::boolean[]) AS u(dev, t, k, du, bt, onl)
       ON CONFLICT DO NOTHING`,
      [
        s.map((r) => r.deviceId),
        s.map((r) => r.ts),
        s.map((r) => r.kind),
        s.map((r) => r.duty),
        s.map((r) => r.battery),
        s.map((r) => r.online),
      ],
    );
  }
  if (i.length > 0) {
    await client.query(
      `INSERT INTO hub_inbox (device_id, channel, key, ts, body)
       SELECT dev, ch, k, to_timestamp(t / 1000.0), b::jsonb
         FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::text[]) AS u(dev, ch, k, t, b)
       ON CONFLICT DO NOTHING`,
      [i.map((r) => r.deviceId), i.map((r) => r.channel), i.map((r) => r.key), i.map((r) => r.ts), i.map((r) => JSON.stringify(r.body))],
    );
  }
  const d: DeadLetterRow[] = conflicts.length > 0 ? [...rows.deadLetters, ...conflicts.map((c) => c.letter)] : rows.deadLetters;
  if (d.length > 0) {
    await client.query(
      `INSERT INTO dead_letters (topic, device_id, reason, size, payload)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::bytea[])`,
      [
        d.map((r) => r.topic.slice(0, 512)),
        d.map((r) => r.deviceId),
        d.map((r) => r.reason),
        d.map((r) => r.size),
        d.map((r) => r.payload.subarray(0, MAX_DEAD_LETTER_BYTES)),
      ],
    );
  }
  return conflicts;
}

/** How many statements writeRows will send (one per table that has rows). */
export function statementCount(rows: Rows): number {
  const { positions: p, events: e, statuses: s, inbox: i, deadLetters: d } = rows;
  const flagged = p.some(isFlagged);
  const valid = flagged ? p.some((r) => !isFlagged(r)) : p.length > 0;
  return (
    (valid ? 1 : 0) + (flagged ? 1 : 0) + (e.length > 0 ? 1 : 0) + (s.length > 0 ? 1 : 0) + (i.length > 0 ? 1 : 0) + (d.length > 0 ? 1 : 0)
  );
}

export function rowCount(rows: Rows): number {
  return rows.positions.length + rows.events.length + rows.statuses.length + rows.inbox.length + rows.deadLetters.length;
}
