// The simulators' entry points for system.ts: seed the demo district sized by config, then play it.
// Loaded lazily by system.ts, so a production hub never imports simulator code.
import type pg from 'pg';
import type { Config } from '../common/config.js';
import { demoDistrictFromConfig, type DemoDistrict } from './demo-district.js';
import { startDistrictSim, type DistrictSim, type DistrictSimOptions } from './district-sim.js';
import { seedDistrict } from './seed-district.js';
import { demoUsers, seedDemoUsers } from './demo-users.js';
import { ResidentSim } from './resident-sim.js';
import { OperatorSim } from './operator-sim.js';
import { createRng } from './rng.js';
import type { Clock } from '../common/clock.js';
import type { Logger } from '../common/logger.js';

/**
 * Builds the district from SIM_SEED and SIM_HANDSETS and writes it to the store; idempotent. Its
 * JT/T 808 terminals need the gateway's port: with JT808_PORT=0 ("any free port", tests) the
 * simulation cannot know it when the district is seeded, so those handsets play native ones
 * (same ids, workers and walks); the fleet is then native and OwnTracks only.
 */
export async function seedDemoDistrict(
  pool: Pick<pg.Pool, 'query'>,
  config: Pick<Config, 'SIM_SEED' | 'SIM_HANDSETS'> & Partial<Pick<Config, 'JT808_PORT'>>,
): Promise<DemoDistrict> {
  const district = config.JT808_PORT === 0 ? withoutTerminals(demoDistrictFromConfig(config)) : demoDistrictFromConfig(config);
  await seedDistrict(pool, district);
  // Command-screen accounts (admin / jiedao / shequ, passwords in the README).
  await seedDemoUsers(pool, district);
  return district;
}

/** The district with its JT/T 808 terminals played as native handsets (they keep WGS-84). */
export function withoutTerminals(district: DemoDistrict): DemoDistrict {
  return {
    ...district,
    handsets: district.handsets.map((h) =>
      h.protocol === 'jt808'
        ? { id: h.id, secret: h.secret, workerId: h.workerId, gridCode: h.gridCode, crs: h.crs, protocol: 'native' }
        : h,
    ),
  };
}

export function startSimulation(o: DistrictSimOptions): Promise<DistrictSim> {
  return startDistrictSim(o);
}

export interface PeopleSim {
  stop(): Promise<void>;
}

/**
 * The people around the handsets, for `npm start`: residents who file complaints over HTTP and rate
 * the result, and a grid leader who verifies resolved cases, so the screen shows cases reaching
 * closure. Real time, so the pace is livelier than sim:day's defaults.
 */
export async function startPeople(o: {
  httpUrl: string;
  district: DemoDistrict;
  clock: Clock;
  logger: Logger;
  authRequired: boolean;
}): Promise<PeopleSim> {
  const rng = createRng(o.district.seed).fork('people');
  const residents = new ResidentSim({
    httpUrl: o.httpUrl,
    district: o.district,
    clock: o.clock,
    rng: rng.fork('residents'),
    logger: o.logger,
    behaviour: { perHour: 30, rateAfterS: [60, 600], pollEveryS: 120 },
  });
  const admin = demoUsers(o.district).find((u) => u.role === 'admin');
  const operator = new OperatorSim({
    httpUrl: o.httpUrl,
    clock: o.clock,
    rng: rng.fork('operator'),
    logger: o.logger,
    pollEveryS: 60,
    verifyAfterS: [60, 300],
    ...(o.authRequired && admin ? { credentials: { username: admin.username, password: admin.password } } : {}),
  });
  await operator.start();
  residents.start();
  const timer = setInterval(() => {
    residents.tick();
    operator.tick();
  }, 1000);
  return {
    async stop() {
      clearInterval(timer);
      await Promise.all([residents.stop(), operator.stop()]);
    },
  };
}
