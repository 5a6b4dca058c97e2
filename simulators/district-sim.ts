// Plays a whole demo district against a broker: every handset, door and camera of it, connected in
// waves (a district of devices coming up at once is a reconnect storm), all driven by one timer.
import type { Clock } from '../common/clock.js';
import type { Config } from '../common/config.js';
import type { Logger } from '../common/logger.js';
import type { AlertDeviceSim } from './alert-device-sim.js';
import { createCameraSim } from './camera-sim.js';
import { regionPolygon, type DemoDistrict } from './demo-district.js';
import { createDoorSim } from './door-sim.js';
import { HandsetSim, type HandsetSimOptions } from './handset-sim.js';
import { createRng } from './rng.js';

export interface DistrictSimOptions {
  mqttUrl: string;
  config: Pick<Config, 'TOPIC_ROOT' | 'SIM_FIX_EVERY_S' | 'SIM_ALERT_EVERY_S'> & Partial<Pick<Config, 'JT808_PORT'>>;
  /**
   * The node's JT/T 808 gateway, for the district's JT/T 808 terminals. Default: the MQTT URL's host
   * and config.JT808_PORT (which is 0, "any free port", in tests: then pass the port it got).
   */
  jt808?: { host: string; port: number };
  logger: Logger;
  clock: Clock;
  district: DemoDistrict;
  /** Seed of the behaviour (walks, outages, alerts); the district's own seed by default. */
  seed?: number;
  /** Devices started per wave, and the pause between waves. */
  waveSize?: number;
  waveGapMs?: number;
  /** Real-time driver period; false to drive tick() yourself (tests with a manual clock). */
  tickMs?: number | false;
  /** Knobs passed to every handset model (outages, battery, batch size). */
  handsetModel?: HandsetSimOptions['model'];
}

export interface DistrictSim {
  handsets: HandsetSim[];
  doors: AlertDeviceSim[];
  cameras: AlertDeviceSim[];
  /** Runs every device's due work by the clock's now. */
  tick(): void;
  /** Resolves when every device has connected at least once. */
  whenConnected(): Promise<void>;
  stop(): Promise<void>;
}

export async function startDistrictSim(o: DistrictSimOptions): Promise<DistrictSim> {
  const log = o.logger.child({ mod: 'district-sim' });
  const { district, clock, config } = o;
  const root = createRng(o.seed ?? district.seed).fork('behaviour');
  const common = { mqttUrl: o.mqttUrl, topicRoot: config.TOPIC_ROOT, clock, logger: o.logger };
  const jt808 = o.jt808 ?? { host: new URL(o.mqttUrl).hostname, port: config.JT808_PORT ?? 0 };

  const handsets = district.handsets.map(
    (h) =>
      new HandsetSim({
        ...common,
        handset: h,
        polygon: regionPolygon(district, h.gridCode),
        rng: root.fork(h.id),
        fixEveryS: config.SIM_FIX_EVERY_S,
        ...(o.handsetModel ? { model: o.handsetModel } : {}),
        ...(h.protocol === 'jt808' ? { jt808 } : {}),
      }),
  );
  const terminals = district.handsets.filter((h) => h.protocol === 'jt808').length;
  if (terminals > 0 && jt808.port === 0)
    log.warn({ terminals }, 'JT/T 808 handsets cannot connect: the gateway port is unknown (JT808_PORT=0); pass the port the gateway got');
  const fixed = { ...common, alertEveryS: config.SIM_ALERT_EVERY_S };
  const doors = district.doors.map((d) => createDoorSim({ ...fixed, device: d, rng: root.fork(d.id) }));
  const cameras = district.cameras.map((c) => createCameraSim({ ...fixed, device: c, rng: root.fork(c.id) }));
  const all: (HandsetSim | AlertDeviceSim)[] = [...handsets, ...doors, ...cameras];

  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = (): void => {
    for (const d of all) d.tick();
  };

  // Waves: a few dozen CONNECTs (each a scrypt check at the broker) at a time.
  const waveSize = o.waveSize ?? 25;
  const waveGapMs = o.waveGapMs ?? 200;
  for (let i = 0; i < all.length; i += waveSize) {
    for (const d of all.slice(i, i + waveSize)) d.start();
    if (i + waveSize < all.length) await new Promise((resolve) => setTimeout(resolve, waveGapMs));
  }

  const tickMs = o.tickMs ?? Math.min(1000, Math.max(50, (config.SIM_FIX_EVERY_S * 1000) / 4));
  if (tickMs !== false) timer = setInterval(tick, tickMs);

  const grids = district.regions.features.filter((f) => f.properties.level === 'grid').length;
  const gcj = district.handsets.filter((h) => h.crs === 'gcj02').length;
  const owntracks = district.handsets.filter((h) => h.protocol === 'owntracks').length;
  log.info(
    {
      handsets: handsets.length,
      gcj02Handsets: gcj,
      owntracksHandsets: owntracks,
      jt808Handsets: terminals,
      doors: doors.length,
      cameras: cameras.length,
      grids,
      seed: o.seed ?? district.seed,
      fixEveryS: config.SIM_FIX_EVERY_S,
      alertEveryS: config.SIM_ALERT_EVERY_S,
    },
    `district simulator started: ${handsets.length} handsets, ${doors.length} doors, ${cameras.length} cameras in ${grids} grids`,
  );

  return {
    handsets,
    doors,
    cameras,
    tick,
    whenConnected: async () => {
      await Promise.all(all.map((d) => d.whenConnected()));
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      await Promise.all(all.map((d) => d.stop()));
      log.info('district simulator stopped');
    },
  };
}
