// An inbox row whose body does not fit its channel (written by an older hub, by hand, by a bug) is
// refused, counted and marked taken; the rows behind it still go through (issue 17: the bodies are
// parsed with the zod schemas beside the row type instead of cast). Before, an alert without a type
// threw a TypeError inside the unit, and the drain stopped at that row on every sweep.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSystem } from '../../../system.js';
import { startTestSystem } from '../../../testkit/test-system.js';
import { IN_G1, seedBorderDistrict } from './border-district.js';

describe('dispatch: inbox bodies', () => {
  let sys: RunningSystem;

  beforeAll(async () => {
    sys = await startTestSystem();
    await seedBorderDistrict(sys);
  }, 60_000);

  afterAll(async () => {
    await sys?.stop();
  });

  it('refuses a body that does not fit its channel, counts it, and takes the next row', async () => {
    const ts = Date.now();
    const put = (deviceId: string, channel: string, at: number, body: object) =>
      sys.db.pool.query<{ id: string }>(
        `INSERT INTO hub_inbox (device_id, channel, key, ts, body) VALUES ($1, $2, '', $3, $4) RETURNING id`,
        [deviceId, channel, new Date(at), JSON.stringify(body)],
      );
    const bad = await put('door-1', 'events', ts, { ts, severity: 'high', lat: IN_G1.lat, lon: IN_G1.lon });
    const badReply = await put('hs-w-g1', 'task-replies', ts + 1, { ts: ts + 1, reply: 'maybe' });
    const good = await put('hs-w-g1', 'reports', ts + 2, {
      ts: ts + 2,
      category: 'garbage',
      lat: IN_G1.lat,
      lon: IN_G1.lon,
      description: '路边垃圾堆',
    });
    const refusedBefore = (channel: string) => sys.metrics.get('dispatch_inbox_rejected_total', { channel });
    const [eventsBefore, repliesBefore] = [refusedBefore('events'), refusedBefore('task-replies')];

    sys.hub.dispatch.poke();
    await sys.hub.dispatch.settled();

    const taken = await sys.db.pool.query<{ id: string; processed: boolean }>(
      'SELECT id, processed_at IS NOT NULL AS processed FROM hub_inbox WHERE id = ANY($1::bigint[]) ORDER BY id',
      [[bad.rows[0].id, badReply.rows[0].id, good.rows[0].id]],
    );
    expect(taken.rows.map((r) => r.processed)).toEqual([true, true, true]);
    expect(refusedBefore('events') - eventsBefore).toBe(1);
    expect(refusedBefore('task-replies') - repliesBefore).toBe(1);
    const made = await sys.db.pool.query(`SELECT category, source, reporter_id FROM incidents`);
    expect(made.rows).toEqual([{ category: 'garbage', source: 'patrol_report', reporter_id: 'w-g1' }]);
  });
});
