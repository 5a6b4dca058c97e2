// Writes a demo district into the store: regions (parents first), workers, then their devices.
// Every statement is an upsert keyed by code or id, so seeding twice changes nothing but the
// (re-salted) secret hashes, and a half-finished seed is finished by running it again.
import type pg from 'pg';
import { upsertDevices, upsertWorkers, type NewDevice } from '../storage/device-store.js';
import type { DemoDistrict, DemoHandset } from './demo-district.js';
import { LEVELS_TO_GRID } from '../protocol/region-levels.js';
import { DEFAULT_APP_DEVICE } from '../protocol/owntracks-topics.js';
import { upsertRegionRows } from '../storage/region-rows.js';

type Queryable = Pick<pg.Pool, 'query'>;

const HANDSET_NAME: Record<DemoHandset['protocol'], string> = {
  native: '的手持终端',
  owntracks: '的手机（OwnTracks）',
  jt808: '的定位终端（JT/T 808）',
};

/** The registry's protocol_id: the terminal number, or OwnTracks' "user/device" as the phone publishes it. */
export function protocolIdOf(h: DemoHandset): string | null {
  if (h.protocol === 'jt808') return h.terminalNo ?? null;
  if (h.protocol === 'owntracks') return `${h.id}/${DEFAULT_APP_DEVICE}`;
  return null;
}

export interface SeedSummary {
  regions: number;
  workers: number;
  devices: number;
}

export async function seedDistrict(pool: Queryable, district: DemoDistrict): Promise<SeedSummary> {
  // One statement per level: a child's parent row always exists before the child is written.
  for (const level of LEVELS_TO_GRID) {
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
    ...district.handsets.map((h) => ({
      id: h.id,
      kind: 'handset' as const,
      secret: h.secret,
      workerId: h.workerId,
      name: `${names.get(h.workerId) ?? h.workerId}${HANDSET_NAME[h.protocol]}`,
      protocol: h.protocol,
      protocolId: protocolIdOf(h),
    })),
    ...[...district.doors, ...district.cameras].map((d) => ({
      id: d.id,
      kind: d.kind,
      secret: d.secret,
      gridCode: d.gridCode,
      lat: d.lat,
      lon: d.lon,
      name: d.name,
    })),
  ];
  // Hashing is scrypt per device; chunks keep one statement's JSON reasonable for large districts.
  for (let i = 0; i < devices.length; i += 1000) await upsertDevices(pool, devices.slice(i, i + 1000));

  const foreign = district.handsets.filter((h) => h.protocol !== 'native');
  if (foreign.length > 0) {
    // An OwnTracks phone or a JT/T 808 terminal has no way to say "on duty" (the native handsets send
    // a status on every connect): their shift starts with the demo, as an operator would mark it.
    await pool.query(`UPDATE workers SET duty = 'on', duty_since = now() WHERE id = ANY($1::text[]) AND duty <> 'on'`, [
      foreign.map((h) => h.workerId),
    ]);
    // The node hands a JT/T 808 terminal its authentication code only until the terminal is first
    // seen after its secret was issued (system-jt808.ts). A real terminal keeps the code in flash; a
    // simulated one keeps it in memory, so every seeding (every start) opens registration again.
    // Demo-only, like the secrets themselves.
    const terminals = foreign.filter((h) => h.protocol === 'jt808').map((h) => h.id);
    if (terminals.length > 0) await pool.query(`UPDATE devices SET secret_changed_at = now() WHERE id = ANY($1::text[])`, [terminals]);
  }

  return { regions: district.regions.features.length, workers: district.workers.length, devices: devices.length };
}
