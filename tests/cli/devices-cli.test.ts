// `npm run devices`: the registry from a terminal, against the embedded database on disk as the
// hub opens it. Importing 3,400 handsets takes seconds and shows progress; one bad row refuses the
// whole file with every bad row listed; the secrets made are written owner-only, and a device
// imported here connects to the real broker started on the same DATA_DIR afterwards.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT, runDevicesCli } from '../../cli/devices-cli.js';
import { openDatabase } from '../../storage/database.js';
import { upsertWorkers } from '../../storage/device-store.js';
import { silentLogger } from '../../common/logger.js';
import { testConfig } from '../../common/config.js';
import { startSystem } from '../../system.js';
import { connectDevice } from '../../testkit/test-system.js';

let dir: string;
const env = () => ({ DATA_DIR: join(dir, 'data'), HTTP_PORT: '0' });

async function cli(args: string[]) {
  let out = '';
  const err: string[] = [];
  const code = await runDevicesCli(args, {
    env: env(),
    out: (t) => {
      out += t;
    },
    err: (l) => err.push(l),
  });
  return { code, out, err: err.join('\n') };
}

async function count(): Promise<number> {
  const db = await openDatabase(testConfig(env()), silentLogger);
  try {
    return (await db.pool.query('SELECT count(*)::int AS n FROM devices')).rows[0].n as number;
  } finally {
    await db.close();
  }
}

const HANDSETS = 3400;
const bigCsv = (): string => {
  const lines = ['id,kind,name,worker_id,grid_code,model'];
  for (let i = 0; i < HANDSETS; i++) lines.push(`hs-${String(i).padStart(4, '0')},handset,"网格员 ${i}, 手机",w-${i % 10},,"华为 Mate"`);
  return `\uFEFF${lines.join('\r\n')}\r\n`; // as Excel saves "CSV UTF-8"
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'devices-cli-'));
  // The registry's references: a small region tree and ten workers.
  const db = await openDatabase(testConfig(env()), silentLogger);
  await db.pool.query(
    `INSERT INTO regions (code, parent_code, level, name, geometry) VALUES ('G1', NULL, 'grid', '一网格', '{"type":"Polygon","coordinates":[[[113,27.8],[113.1,27.8],[113.1,27.9],[113,27.8]]]}')`,
  );
  await upsertWorkers(
    db.pool,
    Array.from({ length: 10 }, (_, i) => ({ id: `w-${i}`, name: `人员${i}`, role: 'grid_worker' as const, gridCodes: ['G1'] })),
  );
  await db.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('devices import', () => {
  it('refuses a file with bad rows, listing each row and reason, and writes nothing', async () => {
    const file = join(dir, 'bad.csv');
    writeFileSync(
      file,
      [
        'id,kind,protocol,protocol_id,worker_id,grid_code,lat,lon,enabled',
        'ok-1,handset,,,w-1,,,,',
        'bad id,handset,,,,,,,',
        'ok-2,toaster,,,,,,,',
        'ok-3,door,,,,G9,27.85,abc,',
        'ok-1,handset,,,,,,,',
        'jt-1,handset,jt808,,,,,,',
        'ok-4,handset,,,w-99,,,,maybe',
      ].join('\n'),
    );
    const r = await cli(['import', file]);
    expect(r.code).toBe(EXIT.REFUSED);
    expect(r.err).toContain('6 bad row(s); nothing was imported');
    expect(r.err).toMatch(/line 3 \(bad id\): id:/);
    expect(r.err).toMatch(/line 4 \(ok-2\): kind:/);
    expect(r.err).toMatch(/line 5 \(ok-3\): lon: "abc" is not a number/);
    expect(r.err).toMatch(/line 6 \(ok-1\): id also on line 2/);
    expect(r.err).toMatch(/line 7 \(jt-1\): protocolId: a jt808 device needs its terminal number/);
    expect(r.err).toMatch(/line 8 \(ok-4\): enabled: "maybe" is not true\/false/);
    expect(await count()).toBe(0);
    writeFileSync(file, 'id,kind,colour\nx,handset,red\n');
    const cols = await cli(['import', file]);
    expect(cols.code).toBe(EXIT.REFUSED);
    expect(cols.err).toContain('unknown column(s) "colour"');
  });

  it('checks a good file with --dry-run and writes nothing', async () => {
    const file = join(dir, 'fleet.csv');
    writeFileSync(file, bigCsv());
    const r = await cli(['import', file, '--dry-run']);
    expect(r.code).toBe(EXIT.OK);
    expect(r.err).toContain(`the file is good (${HANDSETS} new, 0 changed, 0 unchanged)`);
    expect(await count()).toBe(0);
  });

  it('imports 3,400 handsets in seconds with progress, and writes their secrets owner-only', async () => {
    const file = join(dir, 'fleet.csv');
    const t0 = performance.now();
    const r = await cli(['import', file]);
    const seconds = (performance.now() - t0) / 1000;
    expect(r.code, r.err).toBe(EXIT.OK);
    expect(r.err).toContain(`written 500/${HANDSETS}`);
    expect(r.err).toContain(`written ${HANDSETS}/${HANDSETS}`);
    // Opening the embedded database is most of it; the import itself is a few statements.
    expect(seconds).toBeLessThan(30);
    console.log(`devices import of ${HANDSETS} handsets: ${seconds.toFixed(1)} s (CLI start, embedded database, check, write)`);
    const secrets = join(dir, 'fleet.secrets.csv');
    expect(statSync(secrets).mode & 0o777).toBe(0o600);
    const rows = readFileSync(secrets, 'utf8').trim().split('\r\n');
    expect(rows[0]).toBe('id,secret');
    expect(rows).toHaveLength(HANDSETS + 1);
    expect(rows[1]).toMatch(/^hs-0000,[A-Za-z0-9_-]{32}$/);
    expect(await count()).toBe(HANDSETS);
    // Again: every id exists, so refused unless --update; a secrets file is never overwritten.
    const again = await cli(['import', file]);
    expect(again.code).toBe(EXIT.REFUSED);
    expect(again.err).toContain('the device exists already (use --update');
  });

  it('updates with --update, audited, and counts what did not change', async () => {
    const file = join(dir, 'rename.csv');
    writeFileSync(file, 'id,kind,name,worker_id\nhs-0001,handset,新名字,w-1\nhs-0002,handset,"网格员 2, 手机",w-2\n');
    const r = await cli(['import', file, '--update']);
    expect(r.code, r.err).toBe(EXIT.OK);
    // hs-0002 is as it was (its model is not in this file's columns, so it stays).
    expect(r.err).toContain('0 new, 1 changed, 1 unchanged');
    const db = await openDatabase(testConfig(env()), silentLogger);
    const audit = await db.pool.query(`SELECT action, actor, changes FROM device_audit WHERE device_id = 'hs-0001' ORDER BY id`);
    await db.close();
    expect(audit.rows.map((a) => a.action)).toEqual(['import', 'import']);
    expect(audit.rows[1].actor).toMatch(/^cli:/);
    expect(audit.rows[1].changes.name).toEqual(['网格员 1, 手机', '新名字']);
  });
});

describe('devices add, list, rotate, disable, export', () => {
  let secret = '';
  it('adds a device and prints its secret once', async () => {
    const r = await cli([
      'add',
      '--kind',
      'door',
      '--id',
      'door-east',
      '--grid',
      'G1',
      '--lat',
      '27.85',
      '--lon',
      '113.05',
      '--name',
      '东门',
    ]);
    expect(r.code, r.err).toBe(EXIT.OK);
    const [id, s] = r.out.trim().split(',');
    expect(id).toBe('door-east');
    secret = s!;
    expect(secret).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect((await cli(['add', '--kind', 'door', '--id', 'door-east'])).code).toBe(EXIT.REFUSED);
    expect((await cli(['add', '--kind', 'toaster'])).code).toBe(EXIT.USAGE);
  });

  it('rotates and disables, and lists what it did', async () => {
    const rot = await cli(['rotate', 'door-east']);
    expect(rot.code).toBe(EXIT.OK);
    expect(rot.out.trim().split(',')[1]).not.toBe(secret);
    secret = rot.out.trim().split(',')[1]!;
    expect((await cli(['disable', 'door-east'])).code).toBe(EXIT.OK);
    const list = await cli(['list', '--kind', 'door']);
    expect(list.out).toMatch(/door-east\s+door\s+native\s+NO/);
    expect(list.err).toContain('1 device(s)');
    expect((await cli(['enable', 'door-east'])).code).toBe(EXIT.OK);
    expect((await cli(['rotate', 'nobody'])).code).toBe(EXIT.REFUSED);
  });

  it('exports CSV with a BOM that imports again unchanged', async () => {
    const out = join(dir, 'export.csv');
    const r = await cli(['export', '--out', out]);
    expect(r.code).toBe(EXIT.OK);
    const text = readFileSync(out, 'utf8');
    expect(
      text.startsWith(
        '\uFEFFid,kind,protocol,protocol_id,name,worker_id,grid_code,lat,lon,model,firmware,enabled,created_at,last_seen\r\n',
      ),
    ).toBe(true);
    expect(text).toContain('door-east,door,native,,东门,,G1,27.85,113.05,,,true,');
    expect(text).toContain('"网格员 2, 手机"');
    const again = await cli(['import', out, '--update']);
    expect(again.code, again.err).toBe(EXIT.OK);
    expect(again.err).toContain(`0 new, 0 changed, ${HANDSETS + 1} unchanged`);
  });

  it('made devices the broker accepts: the hub started on this DATA_DIR lets them in', async () => {
    const sys = await startSystem({ config: testConfig(env()), logger: silentLogger });
    try {
      const c = await connectDevice(sys, 'door-east', secret);
      c.end(true);
      const fleetSecret = readFileSync(join(dir, 'fleet.secrets.csv'), 'utf8').split('\r\n')[10]!.split(',');
      (await connectDevice(sys, fleetSecret[0]!, fleetSecret[1]!)).end(true);
      await expect(connectDevice(sys, 'door-east', 'not-the-secret-0123456789')).rejects.toMatchObject({ code: 4 });
    } finally {
      await sys.stop();
    }
  });
});
