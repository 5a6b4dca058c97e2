// bench:connect — N handsets connect to the broker alone (no hub), in the load generator's waves,
// with device secrets in each storage scheme, optionally under a storm of wrong secrets:
//   npx tsx bench/device-connect-bench.ts [--devices 10000] [--engine pg|embedded]
//       [--schemes scrypt,migrate,hmac] [--storm 200] [--wave 200]
// scrypt  : rows hold scrypt hashes, the broker has no HMAC key (how every connect was verified
//           before issue 14; runs on the old code too, for a before/after in one tree each).
// migrate : the same scrypt rows, a broker with the key: each device is verified by scrypt once
//           and its row rewritten to the HMAC form; then a second pass (broker restarted) on them.
// hmac    : rows written in the HMAC form (what the registry, CLI and seeding write now).
// --storm S: during each pass, S sockets from 127.0.0.2 keep sending CONNECTs with wrong secrets
//           for the registered ids (the load's handsets come from 127.0.0.1).
// The load generator runs in its own process (bench/ingest-load-child.ts); the broker here.
import { fork, type ChildProcess } from 'node:child_process';
import { connect as netConnect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { generate, parser as mqttParser } from 'mqtt-packet';
import { createLogger } from '../common/logger.js';
import { Metrics } from '../common/metrics.js';
import { openDatabase, type Database } from '../storage/database.js';
import { upsertDevices } from '../storage/device-store.js';
import { startBroker, type BrokerOptions } from '../broker/mqtt-broker.js';
import { defaultMaxVerifications } from '../broker/device-auth.js';
import { startPostgres } from '../testkit/postgres-server.js';
import type { LoadResult } from '../simulators/load-generator.js';
import type { DeviceSecretKey } from '../common/secrets.js';

const STORM_CHILD = '--storm-child';

if (process.argv.includes(STORM_CHILD)) {
  await stormChild();
} else {
  await main();
}

async function main(): Promise<void> {
  const { values: args } = parseArgs({
    options: {
      devices: { type: 'string', default: '10000' },
      engine: { type: 'string', default: 'pg' },
      schemes: { type: 'string', default: 'scrypt,migrate,hmac' },
      storm: { type: 'string', default: '0' },
      wave: { type: 'string', default: '200' },
    },
  });
  const N = Number(args.devices);
  const storm = Number(args.storm);
  const log = createLogger('warn');
  const pg = args.engine === 'pg' ? await startPostgres() : null;
  const db = await openDatabase({ DATABASE_URL: pg?.url, DATA_DIR: '' }, log, { inMemory: !pg });
  // The key API exists only after issue 14's secrets; the scrypt scheme runs without it.
  const secrets: Record<string, unknown> = await import('../common/secrets.js');
  const newKey = secrets.ephemeralDeviceSecretKey as (() => DeviceSecretKey) | undefined;
  const key = newKey?.();
  const results: Record<string, unknown>[] = [];
  console.log(`engine ${db.engine}, ${N} handsets per pass, waves of ${args.wave}, storm ${storm} sockets`);

  for (const scheme of args.schemes.split(',')) {
    if (scheme !== 'scrypt' && !key) throw new Error(`scheme ${scheme} needs common/secrets.ts ephemeralDeviceSecretKey (the new code)`);
    const prefix = `cb-${scheme}`;
    const devices = Array.from({ length: N }, (_, i) => ({ id: `${prefix}-${String(i).padStart(5, '0')}`, secret: randomToken(i) }));
    const t = performance.now();
    for (let i = 0; i < N; i += 1000) {
      const chunk = devices.slice(i, i + 1000).map((d) => ({ id: d.id, kind: 'handset' as const, secret: d.secret }));
      // upsertDevices(pool, devices, key) writes the HMAC form; without a key, scrypt.
      await (upsertDevices as (...a: unknown[]) => Promise<void>)(db.pool, chunk, ...(scheme === 'hmac' ? [key] : []));
    }
    console.log(`${scheme}: registered ${N} in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    const passes = scheme === 'migrate' ? ['migrate (first connect)', 'migrated (second broker)'] : [scheme];
    for (const pass of passes) {
      results.push({
        pass,
        ...(await connectPass(db, devices, { withKey: scheme !== 'scrypt' ? key : undefined, storm, wave: Number(args.wave), log })),
      });
      console.log(JSON.stringify(results.at(-1)));
    }
  }
  console.log('\n| pass | handsets | connect s | broker CPU s | scrypt checks | storm attempts (refused / held / dropped) |');
  console.log('|---|---|---|---|---|---|');
  for (const r of results) {
    console.log(
      `| ${r.pass} | ${r.connected} / ${N} | ${r.connectS} | ${r.brokerCpuS} | ${r.scryptChecks} | ${r.storm ? `${(r.storm as StormResult).attempts} (${(r.storm as StormResult).refused} / ${r.heldPeak} / ${(r.storm as StormResult).dropped})` : '—'} |`,
    );
  }
  await db.close();
  await pg?.stop();
  process.exit(0);
}

function randomToken(i: number): string {
  // 24 bytes of base64url, as the registry issues them; deterministic so runs compare.
  return Buffer.from(`bench-secret-${String(i).padStart(8, '0')}-xyz`)
    .toString('base64url')
    .slice(0, 32);
}

interface StormResult {
  attempts: number;
  refused: number;
  dropped: number;
  accepted: number;
}

async function connectPass(
  db: Database,
  devices: { id: string; secret: string }[],
  o: { withKey: DeviceSecretKey | undefined; storm: number; wave: number; log: ReturnType<typeof createLogger> },
): Promise<Record<string, unknown>> {
  const metrics = new Metrics();
  const opts: BrokerOptions = {
    host: '127.0.0.1',
    port: 0,
    topicRoot: 'grid/v1',
    service: { username: 'hub', password: 'bench-service-password' },
    pool: db.pool,
    metrics,
    logger: o.log,
    // The broker alone: fixes published during the ramp are taken and dropped.
    ingest: async () => undefined,
    // As system.ts sets it: cores − 1 scrypt checks with a server, libuv's default embedded.
    maxVerifications: db.engine === 'server' ? defaultMaxVerifications() : undefined,
    ...(o.withKey ? { deviceSecretKey: o.withKey } : {}),
  };
  const broker = await startBroker(opts);
  await broker.reloadDevices();
  let heldPeak = 0;
  const heldTimer = setInterval(() => {
    heldPeak = Math.max(heldPeak, metrics.snapshot().mqtt_auth_refusals_held ?? 0);
  }, 100);
  const stormer =
    o.storm > 0
      ? startStorm(
          broker.port,
          devices.map((d) => d.id),
          o.storm,
        )
      : null;
  const cpu0 = process.cpuUsage();
  const child = fork(new URL('./ingest-load-child.ts', import.meta.url), [], { execArgv: ['--import', 'tsx'] });
  child.send({
    host: '127.0.0.1',
    port: broker.port,
    devices,
    rateHz: 1,
    durationS: 0,
    topicRoot: 'grid/v1',
    waveSize: o.wave,
    connectTimeoutMs: 30_000,
    connectPhaseMaxS: 600,
    drainMs: 0,
  });
  const load = await new Promise<LoadResult>((resolve) =>
    child.on('message', (m: { result?: LoadResult }) => m.result && resolve(m.result)),
  );
  const cpu = process.cpuUsage(cpu0);
  const stormResult = stormer ? await stormer.stop() : null;
  clearInterval(heldTimer);
  await broker.stop();
  return {
    connected: load.connected,
    connectS: load.connectS,
    errors: load.errors,
    brokerCpuS: Math.round(((cpu.user + cpu.system) / 1e6) * 10) / 10,
    scryptChecks: metrics.get('mqtt_auth_verifications_total', { via: 'scrypt' }),
    hmacChecks: metrics.get('mqtt_auth_verifications_total', { via: 'hmac' }),
    migrated: metrics.get('mqtt_auth_secrets_migrated_total'),
    storm: stormResult,
    heldPeak,
  };
}

function startStorm(port: number, ids: string[], sockets: number): { stop(): Promise<StormResult> } {
  const child: ChildProcess = fork(new URL(import.meta.url), [STORM_CHILD], { execArgv: ['--import', 'tsx'] });
  child.send({ port, ids, sockets });
  return {
    stop: () =>
      new Promise((resolve) => {
        child.once('message', (m: StormResult) => resolve(m));
        child.send({ stop: true });
      }),
  };
}

/** The attacker: `sockets` connections from 127.0.0.2, each guessing, waiting for its answer, again. */
async function stormChild(): Promise<void> {
  const { port, ids, sockets } = await new Promise<{ port: number; ids: string[]; sockets: number }>((r) => process.once('message', r));
  const r: StormResult = { attempts: 0, refused: 0, dropped: 0, accepted: 0 };
  let stopping = false;
  const guess = (n: number): Promise<void> =>
    new Promise((resolve) => {
      const id = ids[(n * 7919) % ids.length]!;
      const s = netConnect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' });
      const p = mqttParser({ protocolVersion: 4 });
      let answered = false;
      p.on('packet', (pk) => {
        if (pk.cmd !== 'connack') return;
        answered = true;
        if (pk.returnCode === 0) r.accepted++;
        else r.refused++;
        s.destroy();
      });
      s.on('data', (b) => p.parse(b));
      s.on('error', () => undefined);
      s.on('close', () => {
        if (!answered) r.dropped++;
        resolve();
      });
      s.on('connect', () => {
        r.attempts++;
        s.write(
          generate({
            cmd: 'connect',
            protocolId: 'MQTT',
            protocolVersion: 4,
            clientId: id,
            clean: true,
            keepalive: 60,
            username: id,
            password: Buffer.from(`wrong-${n}`),
          }),
        );
      });
    });
  let n = 0;
  const loops = Array.from({ length: sockets }, async () => {
    while (!stopping) await guess(n++);
  });
  await new Promise((resolve) => process.once('message', resolve));
  stopping = true;
  await Promise.race([Promise.all(loops), new Promise((res) => setTimeout(res, 15_000))]);
  process.send?.(r, () => process.exit(0));
}
