// Deadlines survive a hub restart and fire once; two hubs on one database never act twice on one
// incident (issue 3 item 9). Plain PostgreSQL started by the harness, so the data outlives a hub.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../common/clock.js';
import { silentLogger } from '../../../common/logger.js';
import { Metrics } from '../../../common/metrics.js';
import { testConfig } from '../../../common/config.js';
import { DispatchService } from '../../../hub/dispatch/dispatch-service.js';
import { LiveState } from '../../../hub/live/live-state.js';
import type { RunningSystem } from '../../../system.js';
import { startPostgres, type PostgresServer } from '../../../testkit/postgres-server.js';
import { startTestSystem } from '../../../testkit/test-system.js';
import { IN_G1, TestHandset, incidentDetail, postJson, seedBorderDistrict } from './border-district.js';
import { RegionDirectory } from '../../../hub/regions/region-directory.js';

describe('dispatch across restarts and hubs', () => {
  const clock = new ManualClock(Date.now());
  let server: PostgresServer;
  const env = (): Record<string, string> => ({ DATABASE_URL: server.url, DISPATCH_OFFER_TIMEOUT_S: '180', DISPATCH_SWEEP_MS: '60000' });

  beforeAll(async () => {
    server = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('a pending offer deadline fires once after the hub restarts, not before and not twice', async () => {
    let sys: RunningSystem = await startTestSystem(env(), { clock });
    await seedBorderDistrict(sys);
    const h = await TestHandset.connect(sys, 'w-g1', IN_G1, clock.now());
    const filed = await postJson<{ id: string }>(sys, '/api/complaints', { category: 'garbage', lat: IN_G1.lat, lon: IN_G1.lon });
    const id = filed.body.id;
    await h.next((m) => m.kind === 'offer' && m.incidentId === id);
    await h.close();
    await sys.stop();

    // Down past the offer window. A new hub starts on the same database and sweeps.
    clock.advance(200_000);
    sys = await startTestSystem(env(), { clock });
    try {
      sys.hub.dispatch.poke();
      await sys.hub.dispatch.settled();
      sys.hub.dispatch.poke();
      await sys.hub.dispatch.settled();
      const d = await incidentDetail(sys, id);
      expect(d.audit.filter((a) => a.action === 'offer_timeout')).toHaveLength(1);
      expect(d.offers[0].status).toBe('timed_out');
      const fired = await sys.db.pool.query(
        `SELECT kind, outcome FROM incident_deadlines WHERE incident_id = $1 AND kind = 'offer' AND fired_at IS NOT NULL`,
        [id],
      );
      expect(fired.rows).toEqual([{ kind: 'offer', outcome: 'offer_timed_out' }]);
    } finally {
      await sys.stop();
    }
  });

  it('two hubs sweeping the same due deadline: one acts, the other finds nothing; racing operators: one wins', async () => {
    const sys = await startTestSystem(env(), { clock });
    const pool2 = new pg.Pool({ connectionString: server.url, max: 2 });
    const live2 = new LiveState(() => clock.now());
    await live2.load(pool2);
    const regions2 = new RegionDirectory(pool2);
    await regions2.load();
    const hub2 = new DispatchService({
      pool: pool2,
      clock,
      config: testConfig(env()),
      live: live2,
      publisher: null,
      metrics: new Metrics(),
      logger: silentLogger,
      regions: regions2,
      notify: { incident: () => undefined, alarm: () => undefined },
    });
    await hub2.start();
    try {
      const h = await TestHandset.connect(sys, 'w-g1b', IN_G1, clock.now());
      const filed = await postJson<{ id: string }>(sys, '/api/complaints', { category: 'noise', lat: IN_G1.lat, lon: IN_G1.lon });
      const id = filed.body.id;
      const offer = await h.next((m) => m.kind === 'offer' && m.incidentId === id);
      clock.advance(181_000);
      const [a, b] = await Promise.all([sys.hub.dispatch.deadlines.sweepDue(), hub2.deadlines.sweepDue()]);
      expect(a + b).toBeGreaterThanOrEqual(1);
      const d = await incidentDetail(sys, id);
      expect(d.audit.filter((x) => x.action === 'offer_timeout')).toHaveLength(1);
      expect(d.offers.find((o) => o.taskId === offer.taskId)?.status).toBe('timed_out');

      // Two operators act on the same version at once: exactly one transition is written.
      const v = (await incidentDetail(sys, id)).incident.version;
      const results = await Promise.allSettled([
        sys.hub.dispatch.actions.act(id, { type: 'cancel', reason: '重复工单', expectedVersion: v }, { kind: 'operator', id: 'op-a' }),
        hub2.actions.act(id, { type: 'cancel', reason: '重复工单', expectedVersion: v }, { kind: 'operator', id: 'op-b' }),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect((refused.reason as { code: string }).code).toBe('VERSION_CONFLICT');
      const after = await incidentDetail(sys, id);
      expect(after.audit.filter((x) => x.action === 'cancel')).toHaveLength(1);
      expect(after.incident.state).toBe('cancelled');
      await h.close();
    } finally {
      await hub2.stop();
      await pool2.end();
      await sys.stop();
    }
  });
});
