// bench:ingest — N simulated handsets at 1 Hz over real MQTT through broker and hub into the
// database. Prints committed pings/s, publish→commit and publish→dashboard p50/p99, loss and the
// hub's peak RSS. Usage: npm run bench:ingest -- [--handsets 3400] [--duration 60] [--engine embedded|pg]
//   [--baseline aedes|mosquitto] [--protocol native|owntracks|jt808]
// --protocol (issue 15 §4): the same handsets through another door: OwnTracks JSON on the app's topics
// (raw MQTT, QoS 1, the broker's ingest sink), or JT/T 808 terminals on the JT808 port (register,
// authenticate, a 0x0200 a second, 0x8001 result 0 as the acknowledgement). Both date fixes to the
// whole second, so their handsets send on whole-second slots at a known phase, taken off the latencies.
// One node: broker with ingest inside it, hub, HTTP and Socket.IO in this process, as `npm start` runs them.
// CPU per stored fix is charged to the whole pipeline (this process with its database thread, and
// the PostgreSQL server's processes), never to the load generator. --baseline first runs the same
// load against a stock broker with one C subscriber (bench/stock-brokers.ts) and prints the ratio.
import { fork } from 'node:child_process';
import { parseArgs } from 'node:util';
import { io } from 'socket.io-client';
import { testConfig } from '../common/config.js';
import { createLogger } from '../common/logger.js';
import { upsertDevices, upsertWorkers } from '../storage/device-store.js';
import { ZHUZHOU } from '../simulators/demo-district.js';
import { fromLocal } from '../simulators/geo-local.js';
import { startSystem } from '../system.js';
import type { Metrics } from '../common/metrics.js';
import type { openDatabase } from '../storage/database.js';
import type { Hub } from '../hub/hub.js';
import type { DeviceSecretKey } from '../common/secrets.js';
import { startPostgres } from '../testkit/postgres-server.js';
import { LIVE_NAMESPACE, type ServerToClientEvents } from '../protocol/socket-events.js';
import { loadPhaseMs, type LoadProgress, type LoadResult } from '../simulators/load-generator.js';
import { LOAD_PROTOCOLS, type LoadDevice, type LoadProtocol } from '../simulators/load-wire.js';
import { CpuMeter, postmasterPid } from '../testkit/process-cpu.js';
import { startStockBroker, type BaselineKind } from './stock-brokers.js';

const { values: args } = parseArgs({
  options: {
    handsets: { type: 'string', default: '3400' },
    duration: { type: 'string', default: '60' },
    engine: { type: 'string', default: 'embedded' },
    baseline: { type: 'string' },
    protocol: { type: 'string', default: 'native' },
    // The live push interval (PUSH_INTERVAL_MS, default 100): publish→screen includes up to one interval.
    'push-ms': { type: 'string' },
    // CPU profiles of the load generator into this folder;
    // profile this process with `node --cpu-prof --cpu-prof-dir=… --import tsx bench/ingest-bench.ts`.
    'prof-dir': { type: 'string' },
  },
});
const N = Number(args.handsets);
const durationS = Number(args.duration);
const log = createLogger('warn');
const childExecArgv = ['--import', 'tsx', ...(args['prof-dir'] ? ['--cpu-prof', `--cpu-prof-dir=${args['prof-dir']}`] : [])];

function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = Float64Array.from(xs).sort();
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

const protocol = args.protocol as LoadProtocol;
if (!(LOAD_PROTOCOLS as readonly string[]).includes(protocol)) {
  console.error(`--protocol takes ${LOAD_PROTOCOLS.join(', ')}`);
  process.exit(2);
}
if (args.baseline && args.baseline !== 'aedes' && args.baseline !== 'mosquitto') {
  console.error('--baseline takes aedes or mosquitto');
  process.exit(2);
}

/**
 * Runs the load generator in its own process against a port; calls `steady` once every handset is
 * connected and `end` at its last progress report (publishing over), each with the acks so far.
 */
function runLoad(
  port: number,
  devs: LoadDevice[],
  topicRoot: string,
  hooks: { progress?: (p: LoadProgress) => void | Promise<void>; steady?: (acked: number) => void; end?: (acked: number) => void },
  wire: LoadProtocol = 'native',
): Promise<LoadResult> {
  const child = fork(new URL('./ingest-load-child.ts', import.meta.url), [], { execArgv: childExecArgv });
  child.send({ host: '127.0.0.1', port, devices: devs, rateHz: 1, durationS, topicRoot, waveSize: 200, drainMs: 15000, protocol: wire });
  let steadyAt = false;
  return new Promise<LoadResult>((resolve) =>
    child.on('message', async (m: { progress?: LoadProgress; result?: LoadResult }) => {
      if (m.progress && !steadyAt && m.progress.connected >= devs.length) {
        steadyAt = true;
        hooks.steady?.(m.progress.acked);
      }
      if (m.progress) {
        hooks.end?.(m.progress.acked); // the last progress report is the end
        await hooks.progress?.(m.progress);
      }
      if (m.result) resolve(m.result);
    }),
  );
}

/** CPU µs per acknowledged message of a stock broker and subscriber, same load, same machine. */
async function runBaseline(
  kind: BaselineKind,
  devs: { id: string; secret: string }[],
): Promise<{ kind: BaselineKind; cpuUsPerMsg: number; ackP99ms: number | null; sent: number; acked: number }> {
  const broker = await startStockBroker(kind, 'grid/v1');
  const meter = new CpuMeter(() => broker.pids);
  let from = { cpu: 0, acked: 0 };
  let to = { cpu: 0, acked: 0 };
  console.log(`baseline: stock ${kind} + mosquitto_sub -q 1, ${devs.length} handsets…`);
  const r = await runLoad(broker.port, devs, 'grid/v1', {
    progress: (p) =>
      console.log(`  t=${p.elapsedS.toFixed(0)}s connected=${p.connected} sent=${p.sent} acked=${p.acked} errors=${p.errors}`),
    steady: (acked) => (from = { cpu: meter.sample(), acked }),
    end: (acked) => (to = { cpu: meter.sample(), acked }),
  });
  await broker.stop();
  const cpuUsPerMsg = Math.round((to.cpu - from.cpu) / Math.max(1, to.acked - from.acked));
  console.log(
    `baseline ${kind}: ${cpuUsPerMsg} µs CPU per message (broker + subscriber), PUBACK p99 ${r.ackLatencyMs ? Math.round(r.ackLatencyMs.p99) : '-'} ms`,
  );
  return { kind, cpuUsPerMsg, ackP99ms: r.ackLatencyMs ? Math.round(r.ackLatencyMs.p99) : null, sent: r.sent, acked: r.acked };
}

const pg = args.engine === 'pg' ? await startPostgres() : null;

/** What the bench needs of the system under test. */
interface Target {
  db: Awaited<ReturnType<typeof openDatabase>>;
  hub: Hub;
  metrics: Metrics;
  mqttUrl: string;
  httpUrl: string;
  jt808Port: number;
  topicRoot: string;
  reloadDevices(): Promise<void>;
  deviceSecretKey: DeviceSecretKey;
  brokerMetrics(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

async function startTarget(): Promise<Target> {
  const config = testConfig({
    LOG_LEVEL: 'warn',
    ...(pg ? { DATABASE_URL: pg.url } : {}),
    ...(args['push-ms'] ? { PUSH_INTERVAL_MS: args['push-ms'] } : {}),
  });
  const sys = await startSystem({ config, logger: log, inMemoryDb: !pg });
  return {
    db: sys.db,
    hub: sys.hub,
    metrics: sys.metrics,
    mqttUrl: sys.mqttUrl,
    httpUrl: sys.httpUrl,
    jt808Port: sys.jt808.port,
    topicRoot: config.TOPIC_ROOT,
    reloadDevices: () => sys.broker.reloadDevices(),
    deviceSecretKey: sys.deviceSecretKey,
    brokerMetrics: async () => sys.metrics.snapshot(),
    stop: () => sys.stop(),
  };
}

const devices: LoadDevice[] = Array.from({ length: N }, (_, i) => ({
  id: `lg-${String(i).padStart(5, '0')}`,
  secret: `load-secret-${i}-abcdefgh`,
  ...(protocol === 'jt808' ? { terminalNo: `138${String(i).padStart(8, '0')}` } : {}),
}));
// OwnTracks and JT/T 808 fixes are dated to the whole second and sent `phase` ms later (load-generator.ts):
// publish→commit and publish→screen are measured from the send, as for native fixes.
const phaseOf = new Map(
  protocol === 'native'
    ? []
    : devices.flatMap(
        (d, i) =>
          [
            [d.id, loadPhaseMs(i, N)],
            [`lw-${d.id}`, loadPhaseMs(i, N)],
          ] as [string, number][],
      ),
);
// The baseline first, alone on the machine (no database running yet).
const baseline = args.baseline ? await runBaseline(args.baseline as BaselineKind, devices) : null;

const sys = await startTarget();
console.log(`engine: ${sys.db.engine} (timescale ${sys.db.timescale}); registering ${N} handsets…`);
// Every handset's worker answers for one grid around the load's area (a 24-gon, 10 km across), so
// the hub tests each fix against it at ingest (positions.in_grid) as it would in a district.
const ring = Array.from({ length: 25 }, (_, k) => {
  const a = ((k % 24) / 24) * 2 * Math.PI;
  const p = fromLocal(ZHUZHOU, 5_000 * Math.cos(a), 5_000 * Math.sin(a));
  return [p.lon, p.lat];
});
await sys.db.pool.query(
  `INSERT INTO regions (code, parent_code, level, name, geometry) VALUES ('LOAD', NULL, 'grid', '压测网格', $1) ON CONFLICT (code) DO NOTHING`,
  [JSON.stringify({ type: 'Polygon', coordinates: [ring] })],
);
for (let i = 0; i < N; i += 500) {
  const chunk = devices.slice(i, i + 500);
  await upsertWorkers(
    sys.db.pool,
    chunk.map((d) => ({ id: `lw-${d.id}`, name: d.id, role: 'grid_worker' as const, gridCodes: ['LOAD'] })),
  );
  // In the HMAC form under the node's key, as the registry writes them (decision 012).
  await upsertDevices(
    sys.db.pool,
    chunk.map((d) => ({
      id: d.id,
      kind: 'handset' as const,
      secret: d.secret,
      workerId: `lw-${d.id}`,
      protocol,
      protocolId: d.terminalNo ?? null,
    })),
    sys.deviceSecretKey,
  );
}
await sys.hub.reloadRegistry();
// As after a registry import: the broker knows every device before the connect storm, so its
// authentication costs scrypt only, not a database query each on the writer's pool.
await sys.reloadDevices();

// Latencies and rate are taken in the steady state, once every handset is connected: the connect
// storm is reported separately (connectS).
let steady = false;
let steadyFrom = 0;
let steadyRows = 0;
let lastCommitAt = 0;
const commitLat: number[] = [];
// The same, only for fixes published after the steady state began (leaves out the connect storm's
// leftovers that are committed after it): reported beside the main figure, not instead of it.
const commitLatLate: number[] = [];
let committed = 0;
// Publish→commit of the last progress window, to see when a tail happens (connect storm, GC, …).
let windowLat: number[] = [];
let lastCommits = 0;
let lastCommitMs = 0;
sys.hub.onCommit((rows, at) => {
  committed += rows.positions.length;
  for (const p of rows.positions) windowLat.push(at - p.ts - (phaseOf.get(p.deviceId) ?? 0));
  if (!steady) return;
  steadyRows += rows.positions.length;
  lastCommitAt = at;
  for (const p of rows.positions) {
    const sentAt = p.ts + (phaseOf.get(p.deviceId) ?? 0);
    commitLat.push(at - sentAt);
    if (sentAt >= steadyFrom) commitLatLate.push(at - sentAt);
  }
});
const screen = io(`${sys.httpUrl}${LIVE_NAMESPACE}`, {
  transports: ['websocket'],
}) as unknown as import('socket.io-client').Socket<ServerToClientEvents>;
const pushLat: number[] = [];
const pushLatLate: number[] = [];
screen.on('positions', (b) => {
  if (!steady) return;
  const now = Date.now();
  for (const it of b.items) {
    const sentAt = it.ts + (phaseOf.get(it.workerId) ?? 0);
    pushLat.push(now - sentAt);
    if (sentAt >= steadyFrom) pushLatLate.push(now - sentAt);
  }
});
await new Promise<void>((r) => screen.once('snapshot', () => r()));

let peakRss = 0;
const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 250);
const cpu0 = process.cpuUsage();
// The whole pipeline's CPU: this process (broker, ingest, hub, HTTP, Socket.IO, the embedded
// database's thread) and the PostgreSQL server's processes; not the load generator (a child).
const pgPid = pg ? postmasterPid(pg.port) : null;
const dbMeter = new CpuMeter(() => (pgPid ? [pgPid] : []));
const pipelineCpu = () => {
  const c = process.cpuUsage();
  return c.user + c.system + dbMeter.sample();
};
let cpuFrom = { cpu: 0, acked: 0 };
let cpuTo = { cpu: 0, acked: 0 };
const t0 = Date.now();
const url = new URL(sys.mqttUrl);
const load = await runLoad(
  protocol === 'jt808' ? sys.jt808Port : Number(url.port),
  devices,
  sys.topicRoot,
  {
    steady: (acked) => {
      steady = true;
      steadyFrom = Date.now();
      cpuFrom = { cpu: pipelineCpu(), acked };
    },
    end: (acked) => (cpuTo = { cpu: pipelineCpu(), acked }),
    progress: async (p) => {
      const snap = { ...sys.metrics.snapshot(), ...(await sys.brokerMetrics()) };
      const commits = sys.metrics.get('ingest_commits_total');
      const commitMs = sys.metrics.get('ingest_commit_ms_total');
      const win = `commits=${commits - lastCommits} mean=${Math.round((commitMs - lastCommitMs) / Math.max(1, commits - lastCommits))}ms queued=${snap['ingest_queued_rows'] ?? 0}`;
      lastCommits = commits;
      lastCommitMs = commitMs;
      console.log(
        `  t=${p.elapsedS.toFixed(0)}s connected=${p.connected} sent=${p.sent} acked=${p.acked} committed=${committed}` +
          ` window publish→commit p50/p99=${Math.round(pct(windowLat, 50))}/${Math.round(pct(windowLat, 99))} ms inflight=${snap['mqtt_ingest_inflight'] ?? 0} ${win}`,
      );
      windowLat = [];
    },
  },
  protocol,
);
const cpuUsPerFix = Math.round((cpuTo.cpu - cpuFrom.cpu) / Math.max(1, cpuTo.acked - cpuFrom.acked));
await sys.hub.drainForBench();
const wallS = (Date.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
clearInterval(rssTimer);
const stored = (await sys.db.pool.query(`SELECT count(*) AS n FROM positions WHERE device_id LIKE 'lg-%'`)).rows[0].n as number;
// PostgreSQL's autovacuum wakes once a minute and then vacuums and analyzes the growing table:
// say whether it ran during the run, since it competes with the commits for the same two cores.
const autovacuum = pg
  ? (
      await sys.db.pool.query(
        `SELECT autovacuum_count + autoanalyze_count AS n, greatest(last_autovacuum, last_autoanalyze) AS last FROM pg_stat_user_tables WHERE relname = 'positions'`,
      )
    ).rows[0]
  : null;
// Every fix lies inside its worker's grid: the ingest fence must have said so for each.
const fenced = (await sys.db.pool.query<{ inside: number }>(`SELECT count(*) FILTER (WHERE in_grid)::int AS inside FROM positions`)).rows[0]
  .inside;
const summary = {
  engine: sys.db.engine,
  protocol,
  handsets: N,
  durationS,
  sent: load.sent,
  brokerAcked: load.acked,
  stored,
  loss: load.acked - stored,
  insideOwnGrid: fenced,
  connectS: steadyFrom ? Math.round((steadyFrom - t0) / 1000) : null,
  steadyCommittedPerS: lastCommitAt > steadyFrom ? Math.round(steadyRows / ((lastCommitAt - steadyFrom) / 1000)) : 0,
  commitP50ms: Math.round(pct(commitLat, 50)),
  commitP99ms: Math.round(pct(commitLat, 99)),
  dashboardP50ms: Math.round(pct(pushLat, 50)),
  dashboardP99ms: Math.round(pct(pushLat, 99)),
  // Only fixes published after every handset was connected (see commitLatLate).
  publishedInSteady: {
    commitP50ms: Math.round(pct(commitLatLate, 50)),
    commitP99ms: Math.round(pct(commitLatLate, 99)),
    dashboardP50ms: Math.round(pct(pushLatLate, 50)),
    dashboardP99ms: Math.round(pct(pushLatLate, 99)),
  },
  pushIntervalMs: Number(args['push-ms'] ?? 100), // PUSH_INTERVAL_MS's default
  ackP99ms: load.ackLatencyMs ? Math.round(load.ackLatencyMs.p99) : null,
  hubPeakRssMiB: Math.round(peakRss / 1048576),
  commits: sys.metrics.get('ingest_commits_total'),
  meanRowsPerCommit: Math.round(sys.metrics.get('ingest_rows_committed_total') / Math.max(1, sys.metrics.get('ingest_commits_total'))),
  meanCommitMs: Math.round(sys.metrics.get('ingest_commit_ms_total') / Math.max(1, sys.metrics.get('ingest_commits_total'))),
  brokerBackpressured: (await sys.brokerMetrics())['mqtt_publish_backpressure_total'] ?? 0,
  positionsAutovacuumRuns: autovacuum ? Number(autovacuum.n) : null,
  lastAutovacuumS: autovacuum?.last ? Math.round((new Date(autovacuum.last).getTime() - t0) / 1000) : null,
  hubCpuPct: Math.round(((cpu.user + cpu.system) / 1e6 / wallS) * 100),
  errors: load.errors,
  // Steady state, all processes of the pipeline, per fix a handset was acknowledged (= stored).
  cpuUsPerFix,
  baseline: baseline ? { ...baseline, ratio: Number((cpuUsPerFix / Math.max(1, baseline.cpuUsPerMsg)).toFixed(2)) } : null,
};
console.log(JSON.stringify(summary, null, 2));
console.log(
  `| ${summary.engine} | ${N} | ${durationS} s | ${summary.steadyCommittedPerS} | ${summary.commitP50ms} / ${summary.commitP99ms} | ${summary.dashboardP50ms} / ${summary.dashboardP99ms} | ${summary.loss} | ${summary.hubPeakRssMiB} MiB |`,
);
screen.close();
await sys.stop();
await pg?.stop();
process.exit(summary.loss === 0 ? 0 : 1);
