// bench:nodes — the system as it runs in production: `main.ts` with NODES=n (node:cluster workers
// sharing the ports) on a PostgreSQL server and Redis, handsets at 1 Hz from separate load processes,
// a command screen on Socket.IO. Reports the steady rate, publish→screen p50/p99, PUBACK p99, loss,
// and CPU µs per stored fix for the whole pipeline (every node, PostgreSQL, Redis; not the load).
//
//   npm run bench:nodes -- --handsets 10000 --nodes 2 --duration 60 [--load-procs 2]
//   npm run bench:nodes -- --handsets 3000 --nodes 1,2    one run after the other on the same servers and
//     handsets, then a table with CPU per fix against the first (1 → 2 nodes: the cost of Redis).
//     One node runs without Redis, as a single-node user runs it (--redis-for-one: with it).
//   --load-nice 10: the load processes at a lower CPU priority, so on a machine too small for
//     handsets and server together the handsets wait, not the server (the steady rate shows it).
//     Handsets whose connect fails try again with backoff, as in the field. The load's own CPU
//     per fix is reported beside the pipeline's (loadCpuUsPerFix), never in it.
//
// Fault runs (issue 14), with handsets that record every PUBACK and resend what was not
// acknowledged; at the end every acknowledged fix must be in the table exactly once:
//   --fault kill   --kill-every 30 --duration 600   kill -9 a node every 30 s (the primary restarts it)
//   --fault db     --outage 60                      the database hung (SIGSTOP) for 60 s
//   --fault redis  --outage 30                      Redis stopped for 30 s, then started again
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parseArgs } from 'node:util';
import { io, type Socket } from 'socket.io-client';
import { silentLogger } from '../common/logger.js';
import { deviceSecretKey } from '../common/secrets.js';
import { LIVE_NAMESPACE, type ServerToClientEvents } from '../protocol/socket-events.js';
import type { LoadProgress, LoadResult } from '../simulators/load-generator.js';
import { ZHUZHOU } from '../simulators/demo-district.js';
import { fromLocal } from '../simulators/geo-local.js';
import { openDatabase } from '../storage/database.js';
import { upsertDevices, upsertWorkers } from '../storage/device-store.js';
import { freePort } from '../testkit/free-port.js';
import { startNode, type NodeProcess } from '../testkit/node-process.js';
import { CpuMeter, postmasterPid, processTree } from '../testkit/process-cpu.js';
import { startPostgres } from '../testkit/postgres-server.js';
import { startRedis, type RedisServer } from '../testkit/redis-server.js';
import { RecordingHandsets } from '../testkit/recording-handsets.js';

const { values: args } = parseArgs({
  options: {
    handsets: { type: 'string', default: '10000' },
    nodes: { type: 'string', default: '2' },
    duration: { type: 'string', default: '60' },
    'load-procs': { type: 'string', default: '1' },
    'load-nice': { type: 'string', default: '0' },
    fault: { type: 'string' },
    'kill-every': { type: 'string', default: '30' },
    outage: { type: 'string', default: '60' },
    'redis-for-one': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log(
    'npm run bench:nodes -- [--handsets 10000] [--nodes 2 | --nodes 1,2] [--redis-for-one] [--duration 60] [--load-procs 1] [--load-nice 0] [--fault kill|db|redis] [--kill-every 30] [--outage 60]',
  );
  process.exit(0);
}
const N = Number(args.handsets);
const durationS = Number(args.duration);
const KEY = 'bench-nodes-device-secret-key-0123456789abcdef';
const pct = (xs: number[], p: number) =>
  xs.length === 0 ? NaN : Float64Array.from(xs).sort()[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

const pg = await startPostgres({ settings: { max_connections: '200', shared_buffers: '256MB' } });
let redis: RedisServer = await startRedis();
const db = await openDatabase({ DATABASE_URL: pg.url, DATA_DIR: '' }, silentLogger);
const devices = Array.from({ length: N }, (_, i) => ({ id: `ln-${String(i).padStart(5, '0')}`, secret: `load-secret-${i}-abcdefgh` }));
const ring = Array.from({ length: 25 }, (_, k) => {
  const a = ((k % 24) / 24) * 2 * Math.PI;
  const p = fromLocal(ZHUZHOU, 5_000 * Math.cos(a), 5_000 * Math.sin(a));
  return [p.lon, p.lat];
});
await db.pool.query(
  `INSERT INTO regions (code, parent_code, level, name, geometry) VALUES ('LOAD', NULL, 'grid', '压测网格', $1) ON CONFLICT (code) DO NOTHING`,
  [JSON.stringify({ type: 'Polygon', coordinates: [ring] })],
);
const key = deviceSecretKey(KEY);
for (let i = 0; i < N; i += 1000) {
  const chunk = devices.slice(i, i + 1000);
  await upsertWorkers(
    db.pool,
    chunk.map((d) => ({ id: `lw-${d.id}`, name: d.id, role: 'grid_worker' as const, gridCodes: ['LOAD'] })),
  );
  await upsertDevices(
    db.pool,
    chunk.map((d) => ({ id: d.id, kind: 'handset' as const, secret: d.secret, workerId: `lw-${d.id}` })),
    key,
  );
}
const NODE_COUNTS = args.nodes.split(',').map(Number);
const baseEnv = {
  DATABASE_URL: pg.url,
  SIM: 'false',
  AUTH_REQUIRED: 'false',
  DEVICE_SECRET_KEY: KEY,
  LOG_LEVEL: 'warn',
};
/** The redis-server the harness started (a child of this process). */
const redisPid = (): number | null => {
  for (const pid of processTree(process.pid)) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('redis-server')) return pid;
    } catch {
      // gone meanwhile
    }
  }
  return null;
};

// What each run needs: the node(s), their MQTT port, a command screen, CPU meters, peak RSS.
let node: NodeProcess;
let mqttPort = 0;
let screen: Socket<ServerToClientEvents>;
let pushLat: number[] = [];
let measuring = false;
let peakRss = 0;
// The pipeline's CPU, split by where it is spent: the nodes (primary and workers), PostgreSQL, Redis.
let meters: { nodes: CpuMeter; pg: CpuMeter; redis: CpuMeter; load: CpuMeter };
/** The load processes of the current run: never charged to the pipeline, reported beside it. */
let loadPids: number[] = [];
const cpuNow = () => ({
  nodes: meters.nodes.sample(),
  pg: meters.pg.sample(),
  redis: meters.redis.sample(),
  load: meters.load.sample(),
});

const stored = async () =>
  (await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM positions WHERE device_id LIKE 'ln-%'`)).rows[0]!.n;
const summaries: Summary[] = [];

for (const nodes of args.fault ? [NODE_COUNTS[0]!] : NODE_COUNTS) {
  // One node is run as a single-node user runs it (no Redis); several join through Redis.
  const env = {
    ...baseEnv,
    NODES: String(nodes),
    ...(nodes > 1 || args['redis-for-one'] ? { REDIS_URL: redis.url } : {}),
    MQTT_PORT: String(await freePort()),
    HTTP_PORT: String(await freePort()),
  };
  console.log(`registered ${N} handsets; starting ${nodes} node(s) on PostgreSQL${env.REDIS_URL ? ' + Redis' : ''}…`);
  node = await startNode(env, 180_000);
  mqttPort = Number(new URL(node.mqttUrl).port);
  meters = {
    nodes: new CpuMeter(() => [node.child.pid!]),
    pg: new CpuMeter(() => [postmasterPid(pg.port) ?? 0].filter((p) => p > 0)),
    redis: new CpuMeter(() => [redisPid() ?? 0].filter((p) => p > 0)),
    load: new CpuMeter(() => loadPids),
  };
  peakRss = 0;
  const rssTimer = setInterval(() => {
    let rss = 0;
    for (const pid of processTree(node.child.pid!)) {
      try {
        rss += Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * 4096;
      } catch {
        // gone
      }
    }
    peakRss = Math.max(peakRss, rss);
  }, 500);
  screen = io(`${node.httpUrl}${LIVE_NAMESPACE}`, { transports: ['websocket'] }) as unknown as Socket<ServerToClientEvents>;
  pushLat = [];
  screen.on('positions', (b) => {
    if (!measuring) return;
    const now = Date.now();
    for (const it of b.items) pushLat.push(now - it.ts);
  });
  await new Promise<void>((r) => screen.once('snapshot', () => r()));

  // What the node(s) cost with no handsets at all (timers, sweeps, health, Redis pings): a fixed cost,
  // charged per fix only in proportion to the rate, so the marginal figure below leaves it out.
  const idle0 = { ...cpuNow(), at: Date.now() };
  await new Promise((r) => setTimeout(r, 10_000));
  const idle1 = { ...cpuNow(), at: Date.now() };
  const idleUsPerS = ((idle1.nodes + idle1.pg + idle1.redis - idle0.nodes - idle0.pg - idle0.redis) / (idle1.at - idle0.at)) * 1000;
  console.log(`  idle: ${Math.round(idleUsPerS / 1e4)} % of a core`);

  if (!args.fault) summaries.push(await steadyRun(nodes, idleUsPerS));
  else await faultRun(args.fault, nodes);

  clearInterval(rssTimer);
  screen.close();
  await node.stop('SIGTERM');
  // Each run counts its own rows.
  await db.pool.query(`DELETE FROM positions WHERE device_id LIKE 'ln-%'`);
}
if (summaries.length > 1) {
  const base = summaries[0]!;
  console.log(
    '\n| nodes | Redis | steady fixes/s | CPU µs per fix (nodes + PostgreSQL + Redis) | ratio | idle CPU | marginal µs per fix | screen p50 / p99 | PUBACK p99 | loss |',
  );
  console.log('|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const s of summaries) {
    const ratio = s.cpuUsPerFix && base.cpuUsPerFix ? (s.cpuUsPerFix / base.cpuUsPerFix).toFixed(2) : '–';
    const c = s.cpuSplit;
    console.log(
      `| ${s.nodes} | ${s.redis ? 'yes' : 'no'} | ${s.steadyAckedPerS ?? '–'} | ${s.cpuUsPerFix ?? '–'} (${c ? `${c.nodes} + ${c.pg} + ${c.redis}` : '–'}) | ${ratio} | ${s.idleCpuPct} % | ${s.marginalUsPerFix ?? '–'} | ${s.screenP50ms} / ${s.screenP99ms} ms | ${s.ackP99ms} ms | ${s.loss} |`,
    );
  }
  // A shared machine is noisy: `--nodes 1,2,1,2,1,2` alternates the configurations; compare medians.
  const counts = [...new Set(summaries.map((s) => s.nodes))];
  if (counts.length < summaries.length) {
    const median = (xs: number[]) => {
      const s = Float64Array.from(xs).sort();
      const m = s.length >> 1;
      return s.length % 2 === 1 ? s[m]! : Math.round((s[m - 1]! + s[m]!) / 2);
    };
    for (const k of ['cpuUsPerFix', 'marginalUsPerFix'] as const) {
      const med = new Map(counts.map((n) => [n, median(summaries.filter((s) => s.nodes === n && s[k] !== null).map((s) => s[k]!))]));
      const first = med.get(counts[0]!)!;
      for (const n of counts)
        console.log(`median ${k}, ${n} node(s): ${med.get(n)} (${(med.get(n)! / first).toFixed(2)}× ${counts[0]} node(s))`);
    }
  }
}

await db.close();
await Promise.all([pg.stop(), redis.stop()]);
process.exit(0);

interface Summary {
  nodes: number;
  redis: boolean;
  handsets: number;
  durationS: number;
  loadProcs: number;
  loadNice: number;
  sent: number;
  acked: number;
  stored: number;
  loss: number;
  connectS: number;
  steadyAckedPerS: number | null;
  screenP50ms: number;
  screenP99ms: number;
  ackP99ms: number;
  cpuUsPerFix: number | null;
  cpuSplit: { nodes: number; pg: number; redis: number } | null;
  /** The load generator's own CPU per fix (its processes, not this one with the screen): not in cpuUsPerFix. */
  loadCpuUsPerFix: number | null;
  idleCpuPct: number;
  marginalUsPerFix: number | null;
  nodesPeakRssMiB: number;
  errors: number;
  errorsByKind: Record<string, number>;
}

async function steadyRun(nodes: number, idleUsPerS: number): Promise<Summary> {
  const procs = Number(args['load-procs']);
  const share = Math.ceil(N / procs);
  const progress: LoadProgress[] = [];
  type Cpu = ReturnType<typeof cpuNow>;
  let steadyFrom: { cpu: Cpu; acked: number; at: number } | null = null;
  let shownLat = pushLat.length;
  let end = { cpu: { nodes: 0, pg: 0, redis: 0, load: 0 }, acked: 0, at: 0 };
  loadPids = [];
  const results = await Promise.all(
    Array.from({ length: procs }, (_, k) => {
      const child = fork(new URL('./ingest-load-child.ts', import.meta.url), [], {
        execArgv: [
          '--import',
          'tsx',
          ...(process.env.LOAD_CPU_PROF_DIR ? ['--cpu-prof', '--cpu-prof-dir', process.env.LOAD_CPU_PROF_DIR] : []),
        ],
      });
      if (child.pid) {
        loadPids.push(child.pid);
        // --load-nice: the load generator yields the cores first, as handsets that are not on the
        // server would; when the cores are short it sends late and skips slots (the rate shows it).
        if (Number(args['load-nice']) !== 0) setPriority(child.pid, Number(args['load-nice']));
      }
      child.send({
        host: '127.0.0.1',
        port: mqttPort,
        devices: devices.slice(k * share, (k + 1) * share),
        rateHz: 1,
        durationS,
        topicRoot: 'grid/v1',
        waveSize: 200,
        drainMs: 15000,
        // Handsets whose connect failed (a saturated node, a timeout) try again, as in the field.
        retryConnect: true,
      });
      return new Promise<LoadResult>((resolve) =>
        child.on('message', (m: { progress?: LoadProgress; result?: LoadResult }) => {
          if (m.progress) {
            progress[k] = m.progress;
            const all = progress.filter(Boolean);
            const connected = all.reduce((s, p) => s + p.connected, 0);
            const acked = all.reduce((s, p) => s + p.acked, 0);
            if (!steadyFrom && all.length === procs && connected >= N) {
              steadyFrom = { cpu: cpuNow(), acked, at: Date.now() };
              measuring = true;
              console.log(`  all ${N} connected after ${(all[0]!.elapsedS).toFixed(0)} s`);
            }
            end = { cpu: cpuNow(), acked, at: Date.now() };
            if (k === 0) {
              // The screen's p99 since the last line: a tail that comes in bursts shows here.
              const recent = pushLat.slice(shownLat);
              shownLat = pushLat.length;
              const p99 = recent.length > 0 ? ` screen p99 ${Math.round(pct(recent, 99))} ms` : '';
              console.log(`  t=${m.progress.elapsedS.toFixed(0)}s connected=${connected} acked=${acked}${p99}`);
            }
          }
          if (m.result) resolve(m.result);
        }),
      );
    }),
  );
  measuring = false;
  const acked = results.reduce((s, r) => s + r.acked, 0);
  const sent = results.reduce((s, r) => s + r.sent, 0);
  const n = await stored();
  const from = steadyFrom as { cpu: Cpu; acked: number; at: number } | null;
  const fixes = from ? Math.max(1, end.acked - from.acked) : 1;
  const per = (k: keyof Cpu) => (from ? Math.round((end.cpu[k] - from.cpu[k]) / fixes) : 0);
  const summary: Summary = {
    nodes,
    redis: nodes > 1 || Boolean(args['redis-for-one']),
    handsets: N,
    durationS,
    loadProcs: procs,
    loadNice: Number(args['load-nice']),
    sent,
    acked,
    stored: n,
    loss: acked - n,
    connectS: Math.max(...results.map((r) => r.connectS)),
    steadyAckedPerS: from ? Math.round((end.acked - from.acked) / ((end.at - from.at) / 1000)) : null,
    screenP50ms: Math.round(pct(pushLat, 50)),
    screenP99ms: Math.round(pct(pushLat, 99)),
    ackP99ms: Math.round(Math.max(...results.map((r) => r.ackLatencyMs?.p99 ?? NaN))),
    cpuUsPerFix: from ? per('nodes') + per('pg') + per('redis') : null,
    cpuSplit: from ? { nodes: per('nodes'), pg: per('pg'), redis: per('redis') } : null,
    loadCpuUsPerFix: from ? per('load') : null,
    idleCpuPct: Math.round(idleUsPerS / 1e4),
    // CPU per fix beyond the idle cost: what each more fix costs, the figure that scales.
    marginalUsPerFix: from
      ? Math.round(per('nodes') + per('pg') + per('redis') - (idleUsPerS * ((end.at - from.at) / 1000)) / fixes)
      : null,
    nodesPeakRssMiB: Math.round(peakRss / 1048576),
    errors: results.reduce((s, r) => s + r.errors, 0),
    errorsByKind: results.reduce<Record<string, number>>((acc, r) => {
      for (const [k, v] of Object.entries(r.errorsByKind)) acc[k] = (acc[k] ?? 0) + v;
      return acc;
    }, {}),
  };
  console.log(JSON.stringify(summary, null, 2));
  return summary;
}

async function faultRun(kind: string, nodes: number): Promise<void> {
  const handsets = new RecordingHandsets({ port: () => mqttPort, devices: devices.slice(0, N), rateHz: 1, baseTs: Date.now() - 5000 });
  handsets.start();
  const t0 = Date.now();
  const log = (what: string) =>
    console.log(
      `  t=${Math.round((Date.now() - t0) / 1000)}s ${what}: acked ${handsets.ackedCount}, up ${handsets.upCount}/${N}, pending ${handsets.pending}`,
    );
  while (handsets.upCount < N && Date.now() - t0 < 120_000) await new Promise((r) => setTimeout(r, 1000));
  log('connected');
  measuring = true;
  const outageS = Number(args.outage);
  if (kind === 'kill') {
    const every = Number(args['kill-every']) * 1000;
    let kills = 0;
    while (Date.now() - t0 < durationS * 1000) {
      await new Promise((r) => setTimeout(r, every));
      const workers = processTree(node.child.pid!).filter(
        (p) => p !== node.child.pid && readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('main.ts'),
      );
      const victim = workers[kills % Math.max(1, workers.length)];
      if (victim) {
        process.kill(victim, 'SIGKILL');
        kills++;
        log(`kill -9 node pid ${victim} (#${kills})`);
      }
    }
  } else if (kind === 'db') {
    await new Promise((r) => setTimeout(r, 10_000));
    const before = handsets.ackedCount;
    pg.pause();
    log('database hung (SIGSTOP)');
    const rss0 = peakRss;
    await new Promise((r) => setTimeout(r, outageS * 1000));
    const during = handsets.ackedCount - before;
    log(
      `${outageS} s later (acked meanwhile: ${during}; node RSS peak ${Math.round(peakRss / 1048576)} MiB, before ${Math.round(rss0 / 1048576)} MiB)`,
    );
    pg.resume();
    const back = Date.now();
    const target = handsets.ackedCount + N * 5;
    while (handsets.ackedCount < target) await new Promise((r) => setTimeout(r, 200));
    log(`database back; ${N * 5} more acks after ${((Date.now() - back) / 1000).toFixed(1)} s`);
    while (handsets.pending > N * 2 && Date.now() - back < 120_000) await new Promise((r) => setTimeout(r, 500));
    log(`backlog down to ≤ 2 per handset after ${((Date.now() - back) / 1000).toFixed(1)} s`);
  } else if (kind === 'redis') {
    await new Promise((r) => setTimeout(r, 10_000));
    const port = redis.port;
    const pushesBefore = pushLat.length;
    await redis.stop();
    const before = handsets.ackedCount;
    log('redis stopped');
    await new Promise((r) => setTimeout(r, outageS * 1000));
    log(`${outageS} s later (acked meanwhile: ${handsets.ackedCount - before}, screen items meanwhile: ${pushLat.length - pushesBefore})`);
    redis = await startRedis({ port });
    const back = Date.now();
    const seen = pushLat.length;
    while (pushLat.length < seen + N) await new Promise((r) => setTimeout(r, 200));
    log(`redis back; the screen had ${N} more positions after ${((Date.now() - back) / 1000).toFixed(1)} s`);
  }
  handsets.stopPublishing();
  const drainFrom = Date.now();
  while (handsets.pending > 0 && Date.now() - drainFrom < 180_000) await new Promise((r) => setTimeout(r, 500));
  log('handsets stopped publishing and emptied their buffers');
  handsets.stop();
  const rows = await db.pool.query<{ device_id: string; seqs: number[] }>(
    `SELECT device_id, array_agg(seq::int) AS seqs FROM positions WHERE device_id LIKE 'ln-%' GROUP BY device_id`,
  );
  const have = new Map(rows.rows.map((r) => [r.device_id, r.seqs]));
  let acked = 0;
  let missing = 0;
  let dupes = 0;
  for (const [id, seqs] of handsets.acked()) {
    const s = have.get(id) ?? [];
    dupes += s.length - new Set(s).size;
    const set = new Set(s);
    for (const q of seqs) {
      acked++;
      if (!set.has(q)) missing++;
    }
  }
  console.log(
    JSON.stringify(
      {
        fault: kind,
        nodes,
        handsets: N,
        acked,
        missingAcked: missing,
        duplicates: dupes,
        stored: await stored(),
        reconnects: handsets.connects - N,
        nodesPeakRssMiB: Math.round(peakRss / 1048576),
        screenP99ms: Math.round(pct(pushLat, 99)),
      },
      null,
      2,
    ),
  );
}
