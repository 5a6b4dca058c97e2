// The KPIs sim:day prints, read from hand-made incident rows in the embedded store: counts, rates,
// percentiles, escalations, and the orphan rule (open, no assignee, no pending offer, below level 3).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../../common/config.js';
import { silentLogger } from '../../common/logger.js';
import { duration, formatKpis, readDayKpis } from '../../simulators/day-kpis.js';
import { openDatabase, type Database } from '../../storage/database.js';

const T0 = Date.parse('2026-11-25T00:00:00+08:00');
const S = 1000;
const H = 3600_000;
let db: Database;
beforeAll(async () => {
  db = await openDatabase(testConfig(), silentLogger, { inMemory: true });
});
afterAll(async () => {
  await db?.close();
});

interface Row {
  id: string;
  state: string;
  created: number;
  level?: number;
  assignee?: string | null;
  accepted?: number;
  arrived?: number;
  resolved?: number;
  resolveBy?: number;
  source?: string;
  category?: string;
}
async function incident(r: Row): Promise<void> {
  const at = (x: number | undefined) => (x === undefined ? null : new Date(r.created + x));
  await db.pool.query(
    `INSERT INTO incidents (id, source, category, priority, lat, lon, grid_code, state, version, escalation_level, assignee_id,
       created_at, updated_at, sla_started_at, accept_by, arrive_by, resolve_by, accepted_at, arrived_at, resolved_at)
     VALUES ($1, $2, $3, 'normal', 27.87, 113.12, '430299001001001', $4, 3, $5, $6, $7, $7, $7, $8, $8, $9, $10, $11, $12)`,
    [
      r.id,
      r.source ?? 'patrol_report',
      r.category ?? 'garbage',
      r.state,
      r.level ?? 0,
      r.assignee ?? null,
      new Date(r.created),
      new Date(r.created + H),
      new Date(r.created + (r.resolveBy ?? 72 * H)),
      at(r.accepted),
      at(r.arrived),
      at(r.resolved),
    ],
  );
}

describe('day KPIs', () => {
  it('reads counts, rates, percentiles, escalations and orphans from the database', async () => {
    const t = T0 + H;
    await incident({ id: 'A', state: 'closed', created: t, accepted: 60 * S, arrived: 300 * S, resolved: 1800 * S, source: 'resident' });
    await incident({ id: 'B', state: 'closed', created: t, accepted: 120 * S, arrived: 600 * S, resolved: 3600 * S });
    await incident({ id: 'C', state: 'verified', created: t, accepted: 180 * S, arrived: 900 * S, resolved: H, resolveBy: H / 2 });
    await incident({ id: 'D', state: 'reported', created: t }); // nobody on it: the orphan
    await incident({ id: 'E', state: 'dispatched', created: t, assignee: 'w-1' });
    await incident({ id: 'F', state: 'escalated', created: t, level: 3, resolveBy: 2 * H, category: 'road' }); // held at command, late
    await incident({ id: 'G', state: 'cancelled', created: t });
    await incident({ id: 'OLD', state: 'reported', created: T0 - H }); // before the day: not counted
    await db.pool.query(
      `INSERT INTO incident_offers (task_id, incident_id, worker_id, level, via, rank, total, parts, offered_at, accept_by, status)
       VALUES ('t-e', 'E', 'w-1', 0, 'own_grid', 1, 0.9, '{}', $1, $1, 'pending'), ('t-d', 'D', 'w-2', 0, 'own_grid', 1, 0.8, '{}', $1, $1, 'timed_out')`,
      [new Date(t)],
    );
    await db.pool.query(
      `INSERT INTO incident_audit (incident_id, version, at, actor_kind, actor_id, action, to_state) VALUES
         ('F', 2, $1, 'system', 'dispatch', 'escalate', 'escalated'), ('F', 3, $1, 'system', 'dispatch', 'escalate', 'escalated'),
         ('OLD', 2, $1, 'system', 'dispatch', 'escalate', 'escalated'), ('A', 2, $1, 'system', 'dispatch', 'dispatch', 'dispatched')`,
      [new Date(t)],
    );

    const k = await readDayKpis(db.pool, T0, T0 + 24 * H);
    expect(k.incidents).toBe(7);
    expect(k.bySource).toEqual({ patrol_report: 6, resident: 1 });
    expect(k.closed).toBe(2);
    expect(k.cancelled).toBe(1);
    expect(k.closureRate).toBeCloseTo(2 / 6, 9);
    expect(k.resolved).toBe(3);
    expect(k.resolvedOnTime).toBe(2);
    expect(k.openOverdue).toBe(1); // F; D and E still have 72 h
    expect(k.onTimeRate).toBeCloseTo(2 / 4, 9);
    expect(k.toAccept).toEqual({ n: 3, medianS: 120, p90S: 168 });
    expect(k.toArrive.medianS).toBe(600);
    expect(k.toResolve).toEqual({ n: 3, medianS: 3600, p90S: 3600 });
    expect(k.escalations).toBe(2);
    expect(k.offers).toEqual({ pending: 1, timed_out: 1 });
    expect(k.orphans).toBe(1);
    expect(k.orphanIds).toEqual(['D']);
    expect(k.heldAtCommand).toEqual({ road: 1 });

    const table = formatKpis(k);
    for (const want of ['closure rate', '33.3 %', 'on-time rate', '50.0 %', 'median 2m00s, p90 2m48s', 'escalations', 'orphans', '(D)'])
      expect(table).toContain(want);
    expect(duration(7260)).toBe('2h01m');
    expect(duration(null)).toBe('-');
  });
});
