// Seed 000: "排水沟淤塞的事件，由于事发地点位于两个街道交汇之处，两边都不'接单'，结果事件因逾期触发系统警报".
// The same case through the pure domain: one owner on the border, every refusal audited, the ladder
// climbs, the overdue alarm fires, and the case is never without an owner.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../common/clock.js';
import { rankCandidates } from '../../../hub/dispatch/dispatch-matching.js';
import { initialLevelForTier, nextStep, onOverdue, scopeGridCodes, type EscalationLevel } from '../../../hub/dispatch/dispatch-ladder.js';
import {
  createIncident,
  incidentActionSchema,
  transition,
  type Actor,
  type AuditEntry,
  type Incident,
} from '../../../hub/dispatch/incident-state-machine.js';
import { deadlinesFor, overdueStages, slaCategory } from '../../../hub/dispatch/sla-policy.js';
import { WorkerIndex } from '../../../hub/dispatch/worker-index.js';
import { gridLocatorFromTree } from '../../../hub/regions/grid-locator.js';
import { parseRegions } from '../../../hub/regions/region-tree.js';
import { fixture } from '../regions/fixtures.js';
import { aWorker, system, T0, worker } from './builders.js';

const MIN = 60_000;

describe('the drain on the border of two streets', () => {
  it('gets one owner, climbs the ladder when both sides refuse, and raises the overdue alarm', () => {
    const clock = new ManualClock(T0);
    const { tree } = parseRegions(fixture('two-streets.geojson'));
    const where = { lon: 113.16, lat: 27.83 }; // the vertex where 东风街道 and 建设街道 meet
    const owner = gridLocatorFromTree(tree).locate(where.lon, where.lat);
    expect(owner).toMatchObject({ gridCode: '430211001001-01', flagged: null });
    expect(owner.tiedWith).toContain('430211002001-01'); // the other street's grid, named in the audit

    const at = { lat: where.lat, lon: where.lon, ts: T0 };
    const workers = [
      aWorker({ id: 'dongfeng-1', gridCodes: ['430211001001-01'], position: { ...at, lat: at.lat - 0.002 } }),
      aWorker({ id: 'dongfeng-leader', role: 'grid_leader', gridCodes: ['430211001001-02'], position: null }),
      aWorker({ id: 'jianshe-1', gridCodes: ['430211002001-01'], position: at }),
      aWorker({ id: 'street-cmd', role: 'command', gridCodes: ['430211001001-01', '430211001001-02'], online: false, position: null }),
    ];
    const level = initialLevelForTier(slaCategory('drain').tier);
    expect(level).toBe(2); // drains are a community matter (排水)
    let { incident } = createIncident(
      {
        id: 'drain-1',
        source: 'patrol_report',
        category: 'drain',
        priority: 'normal',
        reporterId: 'dongfeng-1',
        gridCode: owner.gridCode,
        escalationLevel: level,
        ...where,
      },
      worker('dongfeng-1'),
      clock,
    );
    const deadlines = deadlinesFor(incident.category, incident.priority, incident.slaStartedAt);
    const audit: AuditEntry[] = [];
    const apply = (type: string, actor: Actor, extra: Record<string, unknown> = {}): Incident => {
      const r = transition(incident, incidentActionSchema.parse({ type, expectedVersion: incident.version, ...extra }), actor, clock);
      if (!r.ok) throw new Error(`${type}: ${r.error.code}`);
      audit.push(r.audit);
      incident = r.incident;
      expect(incident.gridCode).toBe(owner.gridCode); // never without an owner
      return incident;
    };
    // Handsets keep streaming: positions are as fresh as the clock when the index is rebuilt.
    const live = () => workers.map((w) => (w.position ? { ...w, position: { ...w.position, ts: clock.now() } } : w));
    const candidates = () =>
      rankCandidates(
        incident,
        WorkerIndex.build(live(), clock.now()),
        { scopeGridCodes: scopeGridCodes(tree, incident.gridCode, incident.escalationLevel as EscalationLevel) },
        clock,
      );

    // Own grid first, then the community, then the other street's worker standing on the spot.
    expect(candidates().map((c) => [c.workerId, c.via])).toEqual([
      ['dongfeng-1', 'own_grid'],
      ['dongfeng-leader', 'scope'],
      ['jianshe-1', 'neighbour'],
    ]);
    for (const [reply, reason] of [
      ['decline', '不是我们网格的'],
      ['offer_timeout', undefined],
      ['decline', '不是我们街道的'],
    ] as const) {
      const step = nextStep(incident.escalationLevel as EscalationLevel, candidates());
      if (step.kind !== 'offer') throw new Error(step.kind);
      apply('dispatch', system, { assigneeId: step.workerId });
      clock.advance(10 * MIN);
      apply(reply, reply === 'decline' ? worker(step.workerId) : system, reason ? { reason } : {});
    }

    // Nobody left in the community: one rung up, to street command.
    const up = nextStep(2, candidates());
    expect(up).toMatchObject({ kind: 'escalate', toLevel: 3, alarm: false });
    apply('escalate', system, { reason: up.kind === 'escalate' ? up.reason : 'x' });
    expect(incident.escalationLevel).toBe(3);
    // The street duty officer is offline: the case is held at command with an alarm, not dropped.
    expect(nextStep(3, candidates())).toMatchObject({ kind: 'hold_at_command', alarm: true });

    // An hour after the report nobody has accepted: the overdue alarm (the one in the seed).
    clock.set(T0 + 60 * MIN);
    expect(overdueStages(incident.state, deadlines, clock.now())).toEqual(['accept']);
    expect(onOverdue(3, 'accept')).toMatchObject({ alarm: true, reason: 'overdue:accept' });

    // The officer logs in and takes it: "街乡吹哨，部门报到".
    workers[3] = { ...workers[3], online: true };
    const step = nextStep(3, candidates());
    expect(step).toMatchObject({ kind: 'offer', workerId: 'street-cmd' });
    apply('dispatch', system, { assigneeId: 'street-cmd' });
    apply('accept', worker('street-cmd', 'command'));
    expect(overdueStages(incident.state, deadlines, clock.now())).toEqual([]); // accepted in time to arrive (4 h)

    expect(audit.map((a) => `${a.action}:${a.to}`)).toEqual([
      'dispatch:dispatched',
      'decline:reported',
      'dispatch:dispatched',
      'offer_timeout:reported',
      'dispatch:dispatched',
      'decline:reported',
      'escalate:escalated',
      'dispatch:dispatched',
      'accept:accepted',
    ]);
    expect(audit.filter((a) => a.action === 'decline').map((a) => a.reason)).toEqual(['不是我们网格的', '不是我们街道的']);
  });
});
