// Starts the real system (embedded TimescaleDB in memory, Aedes on port 0, hub, HTTP on port 0)
// for integration tests, and connects real MQTT clients to it.
import mqtt, { type MqttClient, type IClientOptions } from 'mqtt';
import { testConfig } from '../common/config.js';
import { silentLogger } from '../common/logger.js';
import type { Clock } from '../common/clock.js';
import { startSystem, type RunningSystem } from '../system.js';
import type { Rows } from '../hub/rows/row-types.js';

export async function startTestSystem(env: Record<string, string> = {}, opts: { clock?: Clock } = {}): Promise<RunningSystem> {
  return startSystem({ config: testConfig(env), logger: silentLogger, inMemoryDb: !env.DATABASE_URL, ...opts });
}

/** Connects a device; resolves on CONNACK, rejects with the broker's refusal. */
export function connectDevice(sys: RunningSystem, id: string, secret: string, extra: IClientOptions = {}): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(sys.mqttUrl, {
      clientId: id,
      username: id,
      password: secret,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      ...extra,
    });
    c.once('connect', () => resolve(c));
    c.once('error', (err) => {
      c.end(true);
      reject(err);
    });
  });
}

/** Resolves with the first commit whose rows satisfy `pick`. */
export function nextCommit(sys: RunningSystem, pick: (rows: Rows) => boolean): Promise<Rows> {
  return new Promise((resolve) => {
    let done = false;
    sys.hub.onCommit((rows) => {
      if (!done && pick(rows)) {
        done = true;
        resolve(rows);
      }
    });
  });
}

/** Resolves once the commits seen so far add up to `n` rows of the given kind. */
export function committedCount(sys: RunningSystem, kind: keyof Rows, n: number): Promise<void> {
  let seen = 0;
  return new Promise((resolve) => {
    sys.hub.onCommit((rows) => {
      seen += rows[kind].length;
      if (seen >= n) resolve();
    });
  });
}
