// Seeding the demo district into the embedded store (in memory): parents first, idempotent, and the
// registry's hashes accept exactly the demo secrets the simulators will present.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../../common/config.js';
import { silentLogger } from '../../common/logger.js';
import { verifySecret } from '../../common/secrets.js';
import { buildDemoDistrict } from '../../simulators/demo-district.js';
import { seedDistrict } from '../../simulators/seed-district.js';
import { findDevice } from '../../storage/device-store.js';
import { openDatabase, type Database } from '../../storage/database.js';

let db: Database;
beforeAll(async () => {
  db = await openDatabase(testConfig(), silentLogger, { inMemory: true });
});
afterAll(async () => {
  await db?.close();
});

const count = async (table: string): Promise<number> => (await db.pool.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n;

describe('seedDistrict', () => {
  it('writes regions, workers and devices, and a second run changes nothing', async () => {
    const district = buildDemoDistrict({ seed: 5, handsets: 10 });
    const summary = await seedDistrict(db.pool, district);
    expect(summary.regions).toBe(district.regions.features.length);
    const counts = { regions: await count('regions'), workers: await count('workers'), devices: await count('devices') };
    expect(counts).toEqual({ regions: summary.regions, workers: district.workers.length, devices: summary.devices });
    expect(summary.devices).toBe(district.handsets.length + district.doors.length + district.cameras.length);

    await seedDistrict(db.pool, district);
    expect({ regions: await count('regions'), workers: await count('workers'), devices: await count('devices') }).toEqual(counts);
    // Department staff carry their department (KPIs by department).
    const depts = await db.pool.query(`SELECT DISTINCT department FROM workers WHERE role = 'department_staff' ORDER BY 1`);
    expect(depts.rows.map((r) => r.department)).toEqual(['住建', '城管', '市场监管', '消防', '环保'].sort());

    const grid = district.regions.features.find((f) => f.properties.level === 'grid');
    if (!grid) throw new Error('no grid');
    const row = (await db.pool.query('SELECT parent_code, level, name, geometry FROM regions WHERE code = $1', [grid.properties.code]))
      .rows[0];
    expect(row).toEqual({ parent_code: grid.properties.parent, level: 'grid', name: grid.properties.name, geometry: grid.geometry });

    const handset = district.handsets[0];
    const door = district.doors[0];
    if (!handset || !door) throw new Error('no devices');
    const h = await findDevice(db.pool, handset.id);
    expect(h?.workerId).toBe(handset.workerId);
    expect(await verifySecret(handset.secret, h?.secretHash ?? '')).toBe(true);
    expect(await verifySecret('not-the-secret', h?.secretHash ?? '')).toBe(false);
    const d = await findDevice(db.pool, door.id);
    expect(d).toMatchObject({ kind: 'door', gridCode: door.gridCode, lat: door.lat, lon: door.lon });
  });
});
