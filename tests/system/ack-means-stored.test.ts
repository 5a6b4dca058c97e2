// A PUBACK means the fix is in the database, on the whole path a handset lives (issues 13 and 14):
// handsets record every PUBACK they get from a real node (`main.ts` in its own process, on a real
// PostgreSQL server) while it is stopped under load, killed with SIGKILL and restarted, and while
// its database hangs (SIGSTOP of the whole server); then what each handset was told is compared
// with the table. Before ingest moved into the broker, Aedes wrote the PUBACK before anything was
// stored, and a SIGTERM under 300 handsets lost 15,495 acknowledged fixes.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { silentLogger } from '../../common/logger.js';
import { openDatabase, type Database } from '../../storage/database.js';
import { startPostgres, type PostgresServer } from '../../testkit/postgres-server.js';
import { freePort } from '../../testkit/free-port.js';
import { eventually, registerDevices } from '../../testkit/builders.js';
import { RecordingHandsets } from '../../testkit/recording-handsets.js';
import { postmasterPid, processTree, startNode, type NodeProcess } from '../../testkit/node-process.js';

const HANDSETS = 40;
let server: PostgresServer;
let db: Database;
let handsets: RecordingHandsets;
let node: NodeProcess | null = null;
let env: Record<string, string>;

beforeAll(async () => {
  server = await startPostgres();
  db = await openDatabase({ DATABASE_URL: server.url, DATA_DIR: '' }, silentLogger);
  const devices = await registerDevices(
    db.pool,
    Array.from({ length: HANDSETS }, (_, i) => `a${i}`),
  );
  env = {
    DATABASE_URL: server.url,
    SIM: 'false',
    MQTT_PORT: String(await freePort()),
    HTTP_PORT: String(await freePort()),
    BATCH_MAX_WAIT_MS: '50',
  };
  handsets = new RecordingHandsets({
    port: () => Number(env.MQTT_PORT),
    devices: Object.values(devices).filter((d) => d.kind === 'handset'),
    rateHz: 10,
    baseTs: Date.parse('2026-12-01T08:00:00Z'),
  });
}, 120_000);

afterAll(async () => {
  handsets?.stop();
  if (node) await node.stop('SIGKILL');
  await db?.close();
  await server?.stop();
});

async function stored(): Promise<Map<string, number[]>> {
  const r = await db.pool.query<{ device_id: string; seqs: number[] }>(
    `SELECT device_id, array_agg(seq::int ORDER BY seq) AS seqs FROM positions WHERE device_id LIKE 'hs-a%' GROUP BY device_id`,
  );
  return new Map(r.rows.map((row) => [row.device_id, row.seqs]));
}

/** Every seq a handset was acknowledged is in the table, once. */
async function expectEveryAckStored(): Promise<number> {
  const rows = await stored();
  let missing = 0;
  let checked = 0;
  for (const [id, acked] of handsets.acked()) {
    const have = new Set(rows.get(id) ?? []);
    expect(have.size).toBe((rows.get(id) ?? []).length); // no duplicates
    for (const seq of acked) {
      checked++;
      if (!have.has(seq)) missing++;
    }
  }
  expect(missing).toBe(0);
  return checked;
}

const step = (what: string) => process.stderr.write(`[ack-means-stored] ${what}: acked ${handsets.ackedCount}, up ${handsets.upCount}\n`);
const ready = async (url: string) => (await fetch(`${url}/health/ready`)).status;

it('acknowledges only what is stored through a stop under load, a kill -9, a restart and a hung database', async () => {
  node = await startNode(env);
  expect(await ready(node.httpUrl)).toBe(200);
  handsets.start();
  await eventually(
    () => handsets.ackedCount,
    (n) => n >= 1500,
    30_000,
    '1,500 acknowledged fixes',
  );

  step('1. SIGTERM');
  // 1. SIGTERM under load: the node stops taking publishes, commits what it took, then exits fast.
  const stop = await node.stop('SIGTERM');
  node = null;
  expect(stop.code).toBe(0);
  expect(stop.ms).toBeLessThan(5000);
  const afterStop = await expectEveryAckStored();
  expect(afterStop).toBeGreaterThanOrEqual(1500);

  step('2. Start aga');
  // 2. Start again on the same data; the handsets come back and send what they kept.
  node = await startNode(env);
  await eventually(
    () => handsets.upCount,
    (n) => n === HANDSETS,
    30_000,
    'every handset reconnected',
  );
  const before = handsets.ackedCount;
  await eventually(
    () => handsets.ackedCount,
    (n) => n >= before + 1500,
    30_000,
    '1,500 more acknowledged',
  );

  step('3. kill -9');
  // 3. kill -9 under load: whatever was acknowledged was already committed.
  await node.stop('SIGKILL');
  node = null;
  await expectEveryAckStored();

  step('4. Restart');
  // 4. Restart, then hang the database (no socket closes, nothing answers): no PUBACK meanwhile,
  // readiness says why, and after it resumes everything flows again.
  node = await startNode(env);
  await eventually(
    () => handsets.upCount,
    (n) => n === HANDSETS,
    30_000,
    'every handset reconnected',
  );
  const beforeHang = handsets.ackedCount;
  await eventually(
    () => handsets.ackedCount,
    (n) => n >= beforeHang + 500,
    30_000,
    'acks after the restart',
  );
  const postmaster = postmasterPid(server.port);
  expect(postmaster).not.toBeNull();
  const pids = processTree(postmaster!);
  for (const pid of pids) process.kill(pid, 'SIGSTOP');
  let ackedWhileHung: number;
  try {
    // Commits already past the database's socket may still be acknowledged: let them land first.
    const frozen = await eventually(
      async () => {
        const a = handsets.ackedCount;
        await new Promise((r) => setTimeout(r, 500));
        return handsets.ackedCount - a;
      },
      (d) => d === 0,
      10_000,
      'acks to stop while the database hangs',
    );
    expect(frozen).toBe(0);
    ackedWhileHung = handsets.ackedCount;
    expect(await ready(node.httpUrl)).toBe(503);
    // A window of 2 s with the database still hung: not one PUBACK.
    await new Promise((r) => setTimeout(r, 2000));
    expect(handsets.ackedCount).toBe(ackedWhileHung);
  } finally {
    for (const pid of pids) process.kill(pid, 'SIGCONT');
  }
  await eventually(
    () => handsets.ackedCount,
    (n) => n >= ackedWhileHung + 1000,
    60_000,
    'acks after the database came back',
  );
  await eventually(
    () => ready(node!.httpUrl),
    (s) => s === 200,
    30_000,
    'ready again',
  );

  step('5. Handsets');
  // 5. Handsets stop making fixes and empty their buffers; a last clean stop; compare everything.
  handsets.stopPublishing();
  await eventually(
    () => handsets.pending,
    (n) => n === 0,
    60_000,
    'every handset buffer emptied',
  );
  const last = await node.stop('SIGTERM');
  node = null;
  expect(last.code).toBe(0);
  const total = await expectEveryAckStored();
  // Every fix a handset made was acknowledged in the end, so the table holds exactly them.
  const rows = await stored();
  expect([...rows.values()].reduce((n, s) => n + s.length, 0)).toBe(total);
}, 300_000);
