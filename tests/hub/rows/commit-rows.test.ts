// The batch commit on a real PostgreSQL server (positions by COPY, the INSERT when a batch repeats
// a fix) and on the embedded engine (no COPY over its socket): exactly once, atomic, values intact.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { commitRows } from '../../../hub/rows/commit-rows.js';
import { isoTime, positionsCopyText } from '../../../hub/rows/positions-copy.js';
import { emptyRows, type PositionRow, type Rows } from '../../../hub/rows/row-types.js';
import { embeddedTimescale, plainPostgres, type OpenedEngine } from '../analytics/engines.js';
import { conflictSuite } from './commit-conflicts-suite.js';
import { fixHeadsSuite } from './fix-heads-suite.js';

const t0 = Date.parse('2026-11-25T08:00:00Z');

function fixes(deviceId: string, from: number, to: number): PositionRow[] {
  return Array.from({ length: to - from }, (_, k) => {
    const i = from + k;
    return {
      deviceId,
      workerId: null,
      ts: t0 + i * 1000,
      lat: 27.87 + i * 1e-6,
      lon: 113.12 - i * 1e-6,
      acc: i % 3 === 0 ? null : 4.5,
      alt: null,
      speed: 1.25,
      heading: i % 360,
      battery: 88,
      seq: i,
    };
  });
}

const only = (positions: PositionRow[]): Rows => ({ ...emptyRows(), positions });

describe('COPY text', () => {
  it('writes each fix time exactly as Date#toISOString would (isoTime formats each second once)', () => {
    const base = Date.parse('2026-11-25T08:00:00Z');
    const times = [0, 1, 9, 10, 99, 100, 999, 1000, 59_999, 3_600_000 - 1, 86_400_000 + 7].map((d) => base + d);
    // Out of the fast path: fractions, negatives, five-digit years.
    times.push(base + 0.5, -1, 253402300800000, 946684800000, 4102444800000);
    for (const ms of [...times, ...times.reverse()]) expect(isoTime(ms)).toBe(new Date(ms).toISOString());
  });

  it('escapes what would break a line or a field, and writes null as \\N', () => {
    const [row] = fixes('hs-a\tb\\c\nd', 0, 1);
    expect(positionsCopyText([row!])).toBe(
      `hs-a\\tb\\\\c\\nd\t2026-11-25T08:00:00.000Z\t\\N\t27.87\t113.12\t\\N\t\\N\t1.25\t0\t88\t0\t\\N\n`,
    );
    // in_grid as COPY's boolean text.
    expect(
      positionsCopyText([
        { ...row!, inGrid: true },
        { ...row!, inGrid: false },
      ])
        .split('\n')
        .map((l) => l.split('\t').at(-1)),
    ).toEqual(['t', 'f', '']);
  });
});

for (const [name, open, copy] of [
  ['plain PostgreSQL (COPY)', plainPostgres, true],
  ['embedded TimescaleDB (unnest INSERT)', embeddedTimescale, false],
] as const) {
  describe(name, () => {
    let e: OpenedEngine;
    beforeAll(async () => {
      e = await open();
    }, 120_000);
    afterAll(async () => e?.stop());
    beforeEach(async () => {
      await e.db.pool.query('TRUNCATE positions, positions_flagged, device_events, device_status, hub_inbox, dead_letters');
    });

    const count = async (table = 'positions') =>
      (await e.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]!.n;

    it('stores a batch once; the same batch again changes nothing', async () => {
      const batch = fixes('hs-c1', 0, 2500);
      expect(await commitRows(e.db.pool, only(batch), { copy })).toEqual({ copyFellBack: false, conflictingDuplicates: 0 });
      expect(await count()).toBe(2500);
      // A redelivered batch: COPY refuses the repeated fixes, the INSERT skips them.
      expect(await commitRows(e.db.pool, only(batch), { copy })).toEqual({ copyFellBack: copy, conflictingDuplicates: 0 });
      expect(await count()).toBe(2500);
      const r = await e.db.pool.query(
        `SELECT ts, lat, lon, acc, alt, speed, heading, battery, seq FROM positions WHERE seq IN (0, 1, 2499) ORDER BY seq`,
      );
      expect(r.rows.map((x) => ({ ...x, ts: x.ts.getTime(), seq: Number(x.seq) }))).toEqual(
        [0, 1, 2499].map((i) => {
          const f = fixes('hs-c1', i, i + 1)[0]!;
          return {
            ts: f.ts,
            lat: f.lat,
            lon: f.lon,
            acc: f.acc,
            alt: null,
            speed: f.speed,
            heading: f.heading,
            battery: f.battery,
            seq: i,
          };
        }),
      );
    });

    it('writes the new fixes of a batch that overlaps stored ones, and a fix repeated inside one batch once', async () => {
      await commitRows(e.db.pool, only(fixes('hs-c2', 0, 100)), { copy });
      const overlap = await commitRows(e.db.pool, only([...fixes('hs-c2', 50, 150), ...fixes('hs-c3', 0, 10), ...fixes('hs-c3', 5, 6)]), {
        copy,
      });
      expect(overlap.copyFellBack).toBe(copy);
      const r = await e.db.pool.query<{ device_id: string; n: number; lo: number; hi: number }>(
        `SELECT device_id, count(*)::int AS n, min(seq)::int AS lo, max(seq)::int AS hi FROM positions GROUP BY 1 ORDER BY 1`,
      );
      expect(r.rows).toEqual([
        { device_id: 'hs-c2', n: 150, lo: 0, hi: 149 },
        { device_id: 'hs-c3', n: 10, lo: 0, hi: 9 },
      ]);
    });

    it('commits positions and the other tables together, also when the positions fall back', async () => {
      await commitRows(e.db.pool, only(fixes('hs-c4', 0, 10)), { copy });
      const mixed: Rows = {
        ...emptyRows(),
        positions: fixes('hs-c4', 5, 20),
        statuses: [{ deviceId: 'hs-c4', workerId: null, ts: t0, kind: 'status', duty: 'on', battery: 80, online: null }],
        deadLetters: [
          { topic: 'grid/v1/devices/hs-c4/location', deviceId: 'hs-c4', reason: 'bad json', size: 3, payload: Buffer.from('{{{') },
        ],
      };
      expect(await commitRows(e.db.pool, mixed, { copy })).toEqual({ copyFellBack: copy, conflictingDuplicates: 0 });
      expect([await count(), await count('device_status'), await count('dead_letters')]).toEqual([20, 1, 1]);
    });

    it('leaves nothing of a batch behind when a statement fails for another reason', async () => {
      const bad: Rows = {
        ...emptyRows(),
        positions: fixes('hs-c5', 0, 10),
        // A status kind the table refuses (CHECK): the whole batch rolls back, positions included.
        statuses: [{ deviceId: 'hs-c5', workerId: null, ts: t0, kind: 'nonsense' as 'status', duty: null, battery: null, online: null }],
      };
      await expect(commitRows(e.db.pool, bad, { copy })).rejects.toThrow();
      expect([await count(), await count('device_status')]).toEqual([0, 0]);
      // The pool's connection is usable afterwards.
      await commitRows(e.db.pool, only(fixes('hs-c5', 0, 10)), { copy });
      expect(await count()).toBe(10);
    });

    conflictSuite(() => e, copy);
    fixHeadsSuite(() => e, copy);
  });
}
