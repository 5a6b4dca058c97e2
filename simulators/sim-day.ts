// `npm run sim:day`: a seeded day of the demo district at high speed, end to end (issue #3 item 8).
// The whole system runs in this process (system.ts: embedded TimescaleDB in memory, broker, hub)
// on one accelerated clock that dispatch, deadlines, handsets, residents and the operator share.
// Handsets patrol, report, and answer offers; doors and cameras alert; residents complain over HTTP
// and rate; a simulated grid leader verifies. At the end the KPIs are read from the database and
// printed; the exit code is 1 if any incident was left with nobody on it (an orphan).
//
//   npm run sim:day -- [--seed 20261125] [--hours 24] [--speed 240] [--handsets 77]
//                      [--fix-every 120] [--complaints-per-hour 4] [--start 2026-11-25T00:00:00+08:00]
//
// A main: the only file here besides run.ts that reads the environment (DATABASE_URL, LOG_LEVEL).
import { parseArgs } from 'node:util';
import { ScaledClock } from '../common/clock.js';
import { loadConfig } from '../common/config.js';
import { createLogger } from '../common/logger.js';
import { startSystem } from '../system.js';
import { readDayKpis, formatKpis } from './day-kpis.js';
import { buildDemoDistrict } from './demo-district.js';
import { demoUsers, seedDemoUsers } from './demo-users.js';
import { startDistrictSim } from './district-sim.js';
import { OperatorSim } from './operator-sim.js';
import { ResidentSim } from './resident-sim.js';
import { createRng } from './rng.js';
import { seedDistrict } from './seed-district.js';

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: '20261125' },
    hours: { type: 'string', default: '24' },
    speed: { type: 'string', default: '240' },
    handsets: { type: 'string' },
    'fix-every': { type: 'string', default: '120' },
    'alert-every': { type: 'string', default: '43200' },
    'report-every': { type: 'string', default: '43200' },
    'complaints-per-hour': { type: 'string', default: '4' },
    start: { type: 'string' },
  },
});
const num = (name: keyof typeof values, v: string | undefined): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) {
    process.stderr.write(`--${name} must be a positive number, got ${v}\n`);
    process.exit(2);
  }
  return n;
};
const seed = Math.trunc(num('seed', values.seed));
const hours = num('hours', values.hours);
const speed = num('speed', values.speed);
const fixEveryS = num('fix-every', values['fix-every']);
const perHour = num('complaints-per-hour', values['complaints-per-hour']);
// Everyone carries a handset by default: every rung of the ladder can answer.
const everyone = buildDemoDistrict({ seed, handsets: 1 }).workers.length;
const handsetCount = Math.trunc(num('handsets', values.handsets ?? String(everyone)));
// Default: yesterday, 00:00 in Asia/Shanghai, so the whole day lies in the past.
const SH = 8 * 3600_000;
const startMs = values.start ? Date.parse(values.start) : Math.floor((Date.now() + SH) / 86_400_000) * 86_400_000 - SH - 86_400_000;
if (!Number.isFinite(startMs)) {
  process.stderr.write(`--start must be an ISO-8601 time, got ${values.start}\n`);
  process.exit(2);
}
const endMs = startMs + hours * 3600_000;

const config = loadConfig({
  ...process.env,
  SIM: 'false', // the simulators are started below, with this run's pace
  SIM_SEED: String(seed),
  SIM_HANDSETS: String(handsetCount),
  SIM_FIX_EVERY_S: String(fixEveryS),
  SIM_ALERT_EVERY_S: values['alert-every'],
  MQTT_PORT: '0',
  HTTP_PORT: '0',
  // Quiet by default: the progress lines and the table are the output.
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'error',
  // Sweep deadlines every ~20 simulated seconds, whatever the speed.
  DISPATCH_SWEEP_MS: String(Math.max(50, Math.min(1000, Math.round(20_000 / speed)))),
  // Every simulated resident calls from 127.0.0.1, a day's worth in minutes: not a flood.
  COMPLAINTS_PER_MIN: '100000',
});
const logger = createLogger(config.LOG_LEVEL, false);
const out = (line: string): void => void process.stdout.write(`${line}\n`);
const hhmm = (ms: number): string => new Date(ms + SH).toISOString().slice(11, 16);

out(
  `sim:day seed ${seed}, ${hours} h from ${new Date(startMs + SH).toISOString().slice(0, 16)} (Asia/Shanghai) at ${speed}x: ~${((hours * 3600) / speed / 60).toFixed(1)} min`,
);
out(
  `  ${handsetCount} handsets (fix every ${fixEveryS} s), alerts every ${values['alert-every']} s per device, patrol reports every ${values['report-every']} s per handset, ${perHour} complaints/h`,
);

const district = buildDemoDistrict({ seed, handsets: handsetCount });
// Held at the start of the day until everything is up (starting the embedded database takes seconds).
const clock = new ScaledClock(startMs, speed, { paused: true });
const system = await startSystem({ config, logger, clock, inMemoryDb: !config.DATABASE_URL });
await seedDistrict(system.db.pool, district);
await seedDemoUsers(system.db.pool, district);
const users = demoUsers(district);
await system.hub.reloadRegistry();

const rng = createRng(seed).fork('sim-day');
// A tick every ~5 simulated seconds: answers and arrivals are stamped when they happen anyway
// (the models run in events), the tick only bounds how late they go out.
const tickMs = Math.max(20, Math.round(5000 / speed));
const sim = await startDistrictSim({
  mqttUrl: system.mqttUrl,
  config,
  logger,
  clock,
  district,
  seed,
  tickMs,
  handsetModel: {
    statusEveryS: 600,
    // A quarter of the handsets lose coverage about twice an hour of patrol, for 1-5 minutes.
    outageEveryS: 1800,
    outageS: [60, 300],
    tasks: { reportEveryS: num('report-every', values['report-every']) },
  },
});
const admin = users.find((u) => u.role === 'admin');
const residents = new ResidentSim({ httpUrl: system.httpUrl, district, clock, rng: rng.fork('residents'), logger, behaviour: { perHour } });
const operator = new OperatorSim({
  httpUrl: system.httpUrl,
  clock,
  rng: rng.fork('operator'),
  logger,
  ...(config.AUTH_REQUIRED && admin ? { credentials: { username: admin.username, password: admin.password } } : {}),
});
await operator.start();
await sim.whenConnected();
clock.resume();
residents.start();
const people = setInterval(() => {
  residents.tick();
  operator.tick();
}, tickMs);

const realStart = Date.now();
let nextReportAt = startMs + 3600_000;
const progress = async (): Promise<void> => {
  const r = await system.db.pool.query(
    `SELECT count(*) AS n, count(*) FILTER (WHERE state = 'closed') AS closed,
            count(*) FILTER (WHERE state NOT IN ('resolved', 'verified', 'closed', 'cancelled')) AS open
       FROM incidents WHERE created_at >= $1`,
    [new Date(startMs)],
  );
  const row = r.rows[0] ?? {};
  const msgs = system.metrics.total('ingest_messages_total');
  const realS = (Date.now() - realStart) / 1000;
  out(
    `  ${hhmm(clock.now())}  incidents ${String(row.n).padStart(4)}  open ${String(row.open).padStart(3)}  closed ${String(row.closed).padStart(4)}  complaints ${residents.stats.filed}  msgs ${msgs} (${Math.round(msgs / realS)}/s real)`,
  );
};
await new Promise<void>((resolve) => {
  const t = setInterval(() => {
    const now = clock.now();
    if (now >= nextReportAt) {
      nextReportAt += 3600_000;
      void progress();
    }
    if (now >= endMs) {
      clearInterval(t);
      resolve();
    }
  }, 100);
});

// The day is over: devices say goodbye, people stop, time stops, the hub drains its inbox.
clearInterval(people);
clock.pause();
await Promise.all([sim.stop(), residents.stop(), operator.stop()]);
let last = -1;
for (let stable = 0; stable < 3; ) {
  await new Promise((r) => setTimeout(r, 300));
  const seen = system.metrics.total('ingest_messages_total');
  stable = seen === last ? stable + 1 : 0;
  last = seen;
}
await new Promise((r) => setTimeout(r, 500));
const kpis = await readDayKpis(system.db.pool, startMs, clock.now());
const realS = (Date.now() - realStart) / 1000;
const hs = sim.handsets.reduce(
  (a, h) => {
    const s = h.agent?.stats;
    return {
      offers: a.offers + (s?.offers ?? 0),
      accepted: a.accepted + (s?.accepted ?? 0),
      declined: a.declined + (s?.declined ?? 0),
      ignored: a.ignored + (s?.ignored ?? 0),
      reports: a.reports + (s?.reports ?? 0),
    };
  },
  { offers: 0, accepted: 0, declined: 0, ignored: 0, reports: 0 },
);
out('');
out(
  `KPIs of ${hhmm(startMs)}–${hhmm(clock.now())} (${hours} h simulated in ${(realS / 60).toFixed(1)} min real, ${Math.round(system.metrics.total('ingest_messages_total') / realS)} MQTT msgs/s)`,
);
out(formatKpis(kpis));
out(
  `handsets: ${hs.offers} offers read, ${hs.accepted} accepted, ${hs.declined} declined, ${hs.ignored} ignored; ${hs.reports} patrol reports`,
);
out(
  `residents: ${residents.stats.filed} complaints filed (${residents.stats.fileRejected} refused), ${residents.stats.satisfied} satisfied and ${residents.stats.unsatisfied} unsatisfied ratings, ${residents.stats.silent} silent, ${residents.stats.httpErrors} HTTP errors`,
);
out(
  `operator: ${operator.stats.verified} verified, ${operator.stats.conflicts} version conflicts, ${operator.stats.httpErrors} HTTP errors`,
);
await system.stop();
if (kpis.orphans > 0) out(`FAIL: ${kpis.orphans} orphaned incident(s)`);
// Idle keep-alive sockets of fetch would hold the process a while longer; the run is over.
process.exit(kpis.orphans > 0 ? 1 : 0);
