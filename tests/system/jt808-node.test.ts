// A JT/T 808 terminal joins a running node (system-jt808.ts): it is found in the device registry by
// its terminal number, registers once and is handed the code derived from its secret, authenticates,
// and its location is acknowledged (0x8001 result 0) only once the row is committed. A terminal
// already seen that registers again is refused (result 3) until its secret is rotated: otherwise
// anyone who knows a terminal's number could take its code.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { upsertDevices, upsertWorkers } from '../../storage/device-store.js';
import { Jt808Terminal } from '../../simulators/jt808-terminal.js';
import type { RunningSystem } from '../../system.js';
import { eventually } from '../../testkit/builders.js';
import { startTestSystem } from '../../testkit/test-system.js';

const TERMINAL = '13812345678';
let sys: RunningSystem;
const terminals: Jt808Terminal[] = [];

beforeAll(async () => {
  sys = await startTestSystem();
  await sys.db.pool.query(`INSERT INTO regions (code, parent_code, level, name, geometry) VALUES ('J', NULL, 'grid', 'J网格',
    '{"type":"Polygon","coordinates":[[[113,27.8],[113.2,27.8],[113.2,27.9],[113,27.9],[113,27.8]]]}') ON CONFLICT DO NOTHING`);
  await upsertWorkers(sys.db.pool, [{ id: 'w-jt', name: '北斗网格员', role: 'grid_worker', gridCodes: ['J'] }]);
  await upsertDevices(
    sys.db.pool,
    [{ id: 'hs-jt', kind: 'handset', secret: 'unused-by-the-terminal-0123', workerId: 'w-jt' }],
    sys.deviceSecretKey,
  );
  // Typed with the leading zero the terminal's BCD number carries; the terminal reports it without.
  await sys.db.pool.query(`UPDATE devices SET protocol = 'jt808', protocol_id = $1 WHERE id = 'hs-jt'`, [`0${TERMINAL}`]);
  await sys.hub.reloadRegistry();
});
afterAll(async () => {
  for (const t of terminals) await t.close().catch(() => undefined);
  await sys?.stop();
});

async function terminal(): Promise<Jt808Terminal> {
  const t = await Jt808Terminal.connect({ host: '127.0.0.1', port: sys.jt808.port, terminalNo: TERMINAL, version: 2013 });
  terminals.push(t);
  return t;
}

it('registers, authenticates and has its fix stored before the reply; a second registration is refused', async () => {
  const t = await terminal();
  const reg = await t.register();
  expect(reg.result).toBe(0);
  expect(await t.authenticate()).toBe(0);
  const ts = Math.floor(Date.now() / 1000) * 1000;
  expect(await t.location({ lat: 27.85, lon: 113.1, altitudeM: 50, speedKmh: 3, course: 0, ts })).toBe(0);
  // The reply came after the commit: the row is there now.
  const row = await sys.db.pool.query(`SELECT 1 FROM positions WHERE device_id = 'hs-jt' AND ts = to_timestamp($1 / 1000.0)`, [ts]);
  expect(row.rowCount).toBe(1);

  // Seen since its secret was issued: no second code for whoever asks with this number.
  await eventually(
    async () => (await sys.db.pool.query(`SELECT last_seen FROM devices WHERE id = 'hs-jt'`)).rows[0].last_seen,
    (v) => v !== null,
    15_000,
    'last_seen',
  );
  const again = await (await terminal()).register();
  expect(again.result).toBe(3);
  expect(again.authCode ?? null).toBeNull();
});
