// The region directory on a small tree, without a database: a fake pool answers its one SELECT from
// rows the test changes, so "what is under this scope" and "read again on a change" are checked
// by themselves, with the clock injected. The rooms of the live push (hub/auth/region-scope.ts)
// follow the directory's loads.
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../common/clock.js';
import { ALL_SCOPE, RegionScopes } from '../../../hub/auth/region-scope.js';
import { RegionDirectory } from '../../../hub/regions/region-directory.js';
import type { RegionLevel } from '../../../protocol/region-levels.js';

interface Row {
  code: string;
  parent_code: string | null;
  level: RegionLevel;
  name: string;
  geometry: { type: 'Polygon'; coordinates: number[][][] };
}

/** A square of 0.01° with its south-west corner at (lon, lat). */
const square = (lon: number, lat: number) => ({
  type: 'Polygon' as const,
  coordinates: [
    [
      [lon, lat],
      [lon + 0.01, lat],
      [lon + 0.01, lat + 0.01],
      [lon, lat + 0.01],
      [lon, lat],
    ],
  ],
});
const row = (code: string, parent: string | null, level: RegionLevel, lon: number): Row => ({
  code,
  parent_code: parent,
  level,
  name: `${code} 名`,
  geometry: square(lon, 27.8),
});

// D → S1 → C1 → G1, G2;  D → S2 → C2 → G3.  Grids side by side from 113.00 eastwards.
const TREE: Row[] = [
  row('D', null, 'district', 113),
  row('S1', 'D', 'street', 113),
  row('S2', 'D', 'street', 113.02),
  row('C1', 'S1', 'community', 113),
  row('C2', 'S2', 'community', 113.02),
  row('G1', 'C1', 'grid', 113),
  row('G2', 'C1', 'grid', 113.01),
  row('G3', 'C2', 'grid', 113.02),
];

/** The `regions` table as the directory reads it: how often it was read whole, and looked into for one code. */
interface FakeTable {
  rows: Row[];
  reads: number;
  looks: number;
  pool: Pick<pg.Pool, 'query'>;
}

function fakeTable(rows: Row[]): FakeTable {
  const table: FakeTable = { rows, reads: 0, looks: 0, pool: { query: async () => ({ rows: [] }) } as unknown as Pick<pg.Pool, 'query'> };
  table.pool = {
    query: async (sql: string, params: unknown[] = []) => {
      expect(sql).toMatch(/FROM regions/);
      if (/EXISTS/.test(sql)) {
        table.looks++;
        return { rows: [{ found: table.rows.some((r) => r.code === params[0]) }], rowCount: 1 };
      }
      table.reads++;
      return { rows: table.rows.map((r) => ({ ...r })), rowCount: table.rows.length };
    },
  } as unknown as Pick<pg.Pool, 'query'>;
  return table;
}

async function loaded(rows: Row[] = TREE, clock = new ManualClock(0)) {
  const table = fakeTable(rows);
  const dir = new RegionDirectory(table.pool, () => clock.now());
  await dir.load();
  return { dir, table, clock };
}

describe('scope → regions', () => {
  it('gives a scope and everything under it, and each code its ancestors', async () => {
    const { dir } = await loaded();
    expect(dir.under('S1')).toEqual(['C1', 'G1', 'G2', 'S1']);
    expect(dir.under('C2')).toEqual(['C2', 'G3']);
    expect(dir.under('G3')).toEqual(['G3']);
    expect(dir.under('D')).toEqual(TREE.map((r) => r.code).sort());
    expect(dir.ancestry('G2')).toEqual(['G2', 'C1', 'S1', 'D']);
    expect(dir.ancestry('nowhere')).toEqual([]);
    expect(dir.covers('S1', 'G2')).toBe(true);
    expect(dir.covers('S2', 'G2')).toBe(false);
    expect(dir.covers('G2', 'S1')).toBe(false);
  });

  it('answers what a code is, the grids, the sole root and which grid owns a point', async () => {
    const { dir } = await loaded();
    expect(dir.get('C2')).toMatchObject({ code: 'C2', parent: 'S2', level: 'community', name: 'C2 名' });
    expect(dir.atLevel('grid')).toEqual(['G1', 'G2', 'G3']);
    expect(dir.soleRoot()).toBe('D');
    expect(dir.isWholeTree('D')).toBe(true);
    expect(dir.isWholeTree('S1')).toBe(false);
    expect(dir.locator()?.locate(113.015, 27.805).gridCode).toBe('G2');
  });

  it('has no sole root with two districts, and no locator without grids', async () => {
    const { dir } = await loaded([...TREE, row('D2', null, 'district', 114)]);
    expect(dir.soleRoot()).toBeNull();
    expect(dir.isWholeTree('D')).toBe(false);
    const empty = await loaded([row('D', null, 'district', 113)]);
    expect(empty.dir.locator()).toBeNull();
    expect(empty.dir.under('D')).toEqual(['D']);
  });
});

describe('read again on a change', () => {
  it('keeps its answers until load(), then answers from the new tree and tells its listeners', async () => {
    const { dir, table } = await loaded();
    const scopes = new RegionScopes(dir);
    expect(dir.under('C2')).toEqual(['C2', 'G3']);
    expect(scopes.rooms('G2')).toEqual(['G2', 'C1', 'S1', 'D', ALL_SCOPE]);
    expect(dir.locator()?.locate(113.015, 27.805).gridCode).toBe('G2');
    const heard: number[] = [];
    dir.onChange(() => heard.push(dir.version));
    const before = dir.version;

    // An import moves G2 under C2 and renames it; nobody has reloaded yet: the old answers stand.
    table.rows = TREE.map((r) => (r.code === 'G2' ? { ...r, parent_code: 'C2', name: '新二网格' } : r));
    expect(dir.under('C2')).toEqual(['C2', 'G3']);
    expect(table.reads).toBe(1);

    await dir.load();
    expect(dir.version).toBe(before + 1);
    expect(heard).toEqual([before + 1]);
    expect(dir.under('C2')).toEqual(['C2', 'G2', 'G3']);
    expect(dir.under('C1')).toEqual(['C1', 'G1']);
    expect(dir.ancestry('G2')).toEqual(['G2', 'C2', 'S2', 'D']);
    expect(dir.get('G2')?.name).toBe('新二网格');
    expect(scopes.rooms('G2')).toEqual(['G2', 'C2', 'S2', 'D', ALL_SCOPE]);
    expect(scopes.covers('S1', 'G2')).toBe(false);
  });

  it('builds a new locator after a load: a grid removed owns no point', async () => {
    const { dir, table } = await loaded();
    expect(dir.locator()?.locate(113.025, 27.805).gridCode).toBe('G3');
    table.rows = TREE.filter((r) => r.code !== 'G3');
    await dir.load();
    // The point now lies outside every grid: the nearest one owns it, flagged.
    expect(dir.locator()?.locate(113.025, 27.805)).toMatchObject({ gridCode: 'G2', flagged: 'outside' });
  });

  it('reads the table again when asked about a code it has never seen and the table has, looking at most every 5 s', async () => {
    const { dir, table, clock } = await loaded();
    table.rows = [...TREE, row('G4', 'C2', 'grid', 113.03)];
    clock.set(1000);
    // Within 5 s of the last load: not even a look, the code stays unknown.
    expect(dir.has('G4')).toBe(false);
    expect([table.looks, table.reads]).toEqual([0, 1]);
    clock.set(6000);
    const changed = new Promise<void>((resolve) => dir.onChange(resolve));
    expect(dir.has('G4')).toBe(false); // this miss looks for G4, finds it, and reads the tree
    await changed;
    expect([table.looks, table.reads]).toEqual([1, 2]);
    expect(dir.has('G4')).toBe(true);
    expect(dir.under('C2')).toEqual(['C2', 'G3', 'G4']);
    // A second unknown code right after: no look within the next 5 s.
    expect(dir.has('G5')).toBe(false);
    expect(table.looks).toBe(1);
  });

  it('looks for a code that is nowhere once per 5 s, and never reads every polygon for it', async () => {
    const { dir, table, clock } = await loaded();
    for (let t = 10_000; t <= 60_000; t += 1000) {
      clock.set(t);
      expect(dir.ancestry('GONE')).toEqual([]);
      await Promise.resolve();
    }
    await new Promise((r) => setImmediate(r));
    expect(table.looks).toBe(11); // 10 s, 15 s, … 60 s
    expect(table.reads).toBe(1);
  });
});
