// The simulators' entry points for system.ts: seed the demo district sized by config, then play it.
// Loaded lazily by system.ts, so a production hub never imports simulator code.
import type pg from 'pg';
import type { Config } from '../common/config.js';
import { demoDistrictFromConfig, type DemoDistrict } from './demo-district.js';
import { startDistrictSim, type DistrictSim, type DistrictSimOptions } from './district-sim.js';
import { seedDistrict } from './seed-district.js';
import { seedDemoUsers } from './demo-users.js';

/** Builds the district from SIM_SEED and SIM_HANDSETS and writes it to the store; idempotent. */
export async function seedDemoDistrict(pool: Pick<pg.Pool, 'query'>, config: Pick<Config, 'SIM_SEED' | 'SIM_HANDSETS'>): Promise<DemoDistrict> {
  const district = demoDistrictFromConfig(config);
  await seedDistrict(pool, district);
  // Command-screen accounts (admin / jiedao / shequ, passwords in the README).
  await seedDemoUsers(pool, district);
  return district;
}

export function startSimulation(o: DistrictSimOptions): Promise<DistrictSim> {
  return startDistrictSim(o);
}
