// Writes a demo district into the store: regions (parents first), workers, then their devices.
// Every statement is an upsert keyed by code or id, so seeding twice changes nothing but the
// (re-salted) secret hashes, and a half-finished seed is finished by running it again.
import type pg from 'pg';
import { upsertDevices, upsertWorkers, type NewDevice } from '../storage/device-store.js';
import type { DemoDistrict, RegionLevel } from './demo-district.js';
import { upsertRegionRows } from '../storage/region-rows.js';

type Queryable = Pick<pg.Pool, 'query'>;

const LEVELS: readonly RegionLevel[] = ['district', 'street', 'community', 'grid'];

export interface SeedSummary {
  regions: number;
  workers: number;
  devices: number;
}

export async function seedDistrict(pool: Queryable, district: DemoDistrict): Promise<SeedSummary> {
  // One statement per level: a child's parent row always exists before the child is written.
  for (const level of LEVELS) {
    const rows = district.regions.features
      .filter((f) => f.properties.level === level)
      .map((f) => ({
        code: f.properties.code,
        parent: f.properties.parent,
        level,
        name: f.properties.name,
        geometry: f.geometry,
        props: { source: 'demo', seed: district.seed },
      }));
    await upsertRegionRows(pool, rows);
  }

  await upsertWorkers(pool, district.workers);

  const names = new Map(district.workers.map((w) => [w.id, w.name]));
  const devices: NewDevice[] = [
    // A handset belongs to its worker; its grid is the worker's, not the device's.
    ...district.handsets.map((h) => ({ id: h.id, kind: 'handset' as const, secret: h.secret, workerId: h.workerId, name: `${names.get(h.workerId) ?? h.workerId}的手持终端` })),
    ...[...district.doors, ...district.cameras].map((d) => ({ id: d.id, kind: d.kind, secret: d.secret, gridCode: d.gridCode, lat: d.lat, lon: d.lon, name: d.name })),
  ];
  // Hashing is scrypt per device; chunks keep one statement's JSON reasonable for large districts.
  for (let i = 0; i < devices.length; i += 1000) await upsertDevices(pool, devices.slice(i, i + 1000));

  return { regions: district.regions.features.length, workers: district.workers.length, devices: devices.length };
}
