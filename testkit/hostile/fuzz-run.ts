// One fuzz run against the real system in its own process (system-process.ts), shared by the CI
// test (tests/hostile/broker-fuzz.test.ts) and `npm run fuzz` (bench/fuzz-broker.ts): memory
// before (after a forced collection), at the peak and after (collected again, once every fuzz
// socket is gone), the broker still alive, and a real device's fix acknowledged and stored
// between rounds and at the end.
import { writeFileSync } from 'node:fs';
import mqtt, { type MqttClient } from 'mqtt';
import { runFuzz, type FuzzStats } from './mqtt-fuzz.js';
import type { Memory, SystemProcess } from './system-process.js';

export interface FuzzReport {
  seed: number;
  stats: FuzzStats;
  rounds: number;
  /** Fixes the real device published during the run, each acknowledged (PUBACK) and stored. */
  roundTrips: number;
  alive: boolean;
  before: Memory;
  peak: number;
  after: Memory;
  rejected: Record<string, number>;
}

export interface FuzzRunOptions {
  seed: number;
  sessions: number;
  durationMs: number;
  /** Sessions per round; a legitimate round trip runs between rounds. */
  roundSessions?: number;
  concurrency?: number;
  /** Where to write the last sessions' bytes if the broker dies (for replay as a fixture). */
  crashFile?: string;
  onRound?: (r: { round: number; stats: FuzzStats; rssMB: number }) => void;
}

/** A fix from the real device, QoS 1: resolves once the PUBACK is in. */
async function roundTrip(device: MqttClient, id: string, seq: number): Promise<void> {
  const fix = { ts: Date.now() - 500, lat: 27.87, lon: 113.12, acc: 5, seq };
  await device.publishAsync(`grid/v1/devices/${id}/location`, JSON.stringify(fix), { qos: 1 });
}

export async function fuzzSystem(sys: SystemProcess, o: FuzzRunOptions): Promise<FuzzReport> {
  const creds = { topicRoot: 'grid/v1', devices: sys.fuzzDevices };
  const before = await sys.memory({ gc: true, resetPeak: true });
  const device = await mqtt.connectAsync(`mqtt://127.0.0.1:${sys.port}`, {
    clientId: sys.device.id,
    username: sys.device.id,
    password: sys.device.secret,
    reconnectPeriod: 0,
    keepalive: 30,
  });
  const rowsBefore = await sys.rows(sys.device.id);
  const total: FuzzStats = { sessions: 0, packets: 0, bytes: 0, closedByBroker: 0, authenticated: 0, ms: 0 };
  const started = Date.now();
  const recent: Buffer[][] = [];
  let round = 0;
  let roundTrips = 0;
  try {
    while (total.sessions < o.sessions && Date.now() - started < o.durationMs) {
      const stats = await runFuzz({
        port: sys.port,
        seed: o.seed + round,
        creds,
        concurrency: o.concurrency,
        sessions: Math.min(o.roundSessions ?? 500, o.sessions - total.sessions),
        durationMs: o.durationMs - (Date.now() - started),
        onSession: ({ chunks }) => {
          recent.push(chunks);
          if (recent.length > 64) recent.shift();
        },
      });
      for (const k of ['sessions', 'packets', 'bytes', 'closedByBroker', 'authenticated'] as const) total[k] += stats[k];
      round++;
      if (!sys.alive()) break;
      await roundTrip(device, sys.device.id, round);
      roundTrips++;
      o.onRound?.({ round, stats: total, rssMB: Math.round((await sys.memory()).rss / 2 ** 20) });
    }
  } finally {
    if (!sys.alive() && o.crashFile) {
      writeFileSync(
        o.crashFile,
        `${JSON.stringify({ seed: o.seed, round, sessions: recent.map((c) => c.map((b) => b.toString('hex'))) }, null, 1)}\n`,
      );
    }
  }
  total.ms = Date.now() - started;
  const alive = sys.alive();
  // The end: a fresh connection still gets in, and every fix is in the table.
  if (alive) {
    await device.endAsync();
    const again = await mqtt.connectAsync(`mqtt://127.0.0.1:${sys.port}`, {
      clientId: sys.device.id,
      username: sys.device.id,
      password: sys.device.secret,
      reconnectPeriod: 0,
    });
    await roundTrip(again, sys.device.id, round + 1);
    roundTrips++;
    await again.endAsync();
  }
  const stored = alive ? (await sys.rows(sys.device.id)) - rowsBefore : 0;
  if (alive && stored !== roundTrips) throw new Error(`${roundTrips} fixes acknowledged, ${stored} stored`);
  const mid = alive ? await sys.memory() : before;
  const after = alive ? await waitQuiet(sys) : before;
  const { metrics } = alive ? await sys.metrics() : { metrics: {} as Record<string, number> };
  const rejected = Object.fromEntries(Object.entries(metrics).filter(([k]) => /^mqtt_(rejected|acl_denied|auth)_total/.test(k)));
  return { seed: o.seed, stats: total, rounds: round, roundTrips, alive, before, peak: Math.max(mid.peak, after.peak), after, rejected };
}

/** Memory once every fuzz connection is gone, after a forced collection. */
async function waitQuiet(sys: SystemProcess): Promise<Memory> {
  for (let i = 0; i < 100; i++) {
    const { metrics, connected } = await sys.metrics();
    if (connected === 0 && (metrics.mqtt_unauthenticated_connections ?? 0) === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return sys.memory({ gc: true });
}
