// The broker's ingest gate (decision 009): a device's PUBACK comes only after its fix is committed,
// QoS 2 is refused, a publish during a stop is refused without a PUBACK, and a will with no live
// client may speak only for a device's presence.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { aFix, registerDevices, type TestDevice } from '../../testkit/builders.js';
import { connectDevice, startTestSystem } from '../../testkit/test-system.js';
import type { RunningSystem } from '../../system.js';
import { TopicAcl } from '../../broker/topic-acl.js';
import { Metrics } from '../../common/metrics.js';
import { silentLogger } from '../../common/logger.js';

let sys: RunningSystem;
let dev: Record<string, TestDevice>;

beforeAll(async () => {
  sys = await startTestSystem();
  dev = await registerDevices(sys.db.pool, ['g1', 'g2']);
  await sys.hub.reloadRegistry();
});
afterAll(async () => {
  await sys?.stop();
});

it('sends the PUBACK only once the fix is in the table', async () => {
  const hs = await connectDevice(sys, 'hs-g1', dev['hs-g1']!.secret);
  const fix = aFix({ seq: 7 });
  // Observe the table at the moment the PUBACK arrives, not afterwards.
  await hs.publishAsync('grid/v1/devices/hs-g1/location', JSON.stringify(fix), { qos: 1 });
  const r = await sys.db.pool.query(`SELECT seq FROM positions WHERE device_id = 'hs-g1' AND ts = to_timestamp($1 / 1000.0)`, [fix.ts]);
  expect(r.rows).toEqual([{ seq: 7 }]);
  await hs.endAsync();
});

it('refuses QoS 2 from a device: the connection closes and nothing is stored', async () => {
  const hs = await connectDevice(sys, 'hs-g2', dev['hs-g2']!.secret);
  const closed = new Promise<void>((resolve) => hs.once('close', () => resolve()));
  const fix = aFix({ seq: 8 });
  hs.publish('grid/v1/devices/hs-g2/location', JSON.stringify(fix), { qos: 2 });
  await closed;
  hs.end(true);
  expect(sys.metrics.get('mqtt_acl_denied_total', { op: 'publish', reason: 'qos2' })).toBe(1);
  const r = await sys.db.pool.query(`SELECT 1 FROM positions WHERE device_id = 'hs-g2'`);
  expect(r.rowCount).toBe(0);
});

it('lets a will with no live client publish only a device presence', () => {
  const acl = new TopicAcl('grid/v1', () => undefined, new Metrics(), silentLogger);
  expect(acl.orphanWillRefusal('grid/v1/devices/hs-1/presence')).toBeNull();
  expect(acl.orphanWillRefusal('grid/v1/devices/hs-1/location')).toBe('orphan_will');
  expect(acl.orphanWillRefusal('grid/v1/devices/hs-1/tasks')).toBe('orphan_will');
  expect(acl.orphanWillRefusal('$SYS/x')).toBe('orphan_will');
});
