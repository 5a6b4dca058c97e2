// The pure parts of the command screen's incident and replay panels, in plain node: when a case
// counts as overdue (turns red between pushes), which deadline the countdown shows, and the replay's
// day range, inside/outside runs and interpolation.
import { describe, expect, it } from 'vitest';
import type { IncidentView } from '../../protocol/socket-events.js';
import { nextDeadline, overdueStages } from '../../dashboard/src/incident-sla.js';
import { positionAt, shanghaiDayRange, trailRuns } from '../../dashboard/src/replay-math.js';

const T0 = Date.parse('2026-11-25T02:00:00Z');
function anIncident(over: Partial<IncidentView> = {}): IncidentView {
  return {
    id: 'I1',
    source: 'resident',
    category: 'drain',
    priority: 'normal',
    title: null,
    state: 'dispatched',
    version: 1,
    lat: 27.87,
    lon: 113.12,
    gridCode: 'G1',
    locationFlag: null,
    escalationLevel: 0,
    assigneeId: null,
    foldCount: 1,
    createdAt: T0,
    updatedAt: T0,
    acceptBy: T0 + 10 * 60_000,
    arriveBy: T0 + 40 * 60_000,
    resolveBy: T0 + 72 * 3600_000,
    overdue: [],
    rating: null,
    ...over,
  };
}

describe('overdue', () => {
  it('is nothing before the first deadline', () => {
    expect(overdueStages(anIncident(), T0 + 60_000)).toEqual([]);
  });

  it('turns accept overdue by the clock, before any push says so', () => {
    expect(overdueStages(anIncident(), T0 + 11 * 60_000)).toEqual(['accept']);
  });

  it('does not count accept against a case already accepted, but does count arrive', () => {
    const i = anIncident({ state: 'accepted' });
    expect(overdueStages(i, T0 + 11 * 60_000)).toEqual([]);
    expect(overdueStages(i, T0 + 41 * 60_000)).toEqual(['arrive']);
  });

  it("keeps the hub's stages, and clears nothing once resolved", () => {
    expect(overdueStages(anIncident({ state: 'resolved', overdue: ['accept'] }), T0 + 100 * 3600_000)).toEqual(['accept']);
  });

  it('counts down to the deadline of the current stage', () => {
    expect(nextDeadline(anIncident())).toEqual({ stage: 'accept', at: T0 + 10 * 60_000 });
    expect(nextDeadline(anIncident({ state: 'accepted' }))?.stage).toBe('arrive');
    expect(nextDeadline(anIncident({ state: 'on_site' }))?.stage).toBe('resolve');
    expect(nextDeadline(anIncident({ state: 'closed' }))).toBeNull();
  });
});

describe('replay maths', () => {
  it('takes the Shanghai calendar day, whatever the machine zone', () => {
    const { from, to } = shanghaiDayRange('2026-11-25');
    expect(from.toISOString()).toBe('2026-11-24T16:00:00.000Z');
    expect(to.getTime() - from.getTime()).toBe(86_400_000);
  });

  const pts = [
    { lat: 0, lon: 0, ts: 0, outside: false },
    { lat: 0, lon: 1, ts: 1000, outside: false },
    { lat: 0, lon: 2, ts: 2000, outside: true },
    { lat: 0, lon: 3, ts: 3000, outside: true },
    { lat: 0, lon: 4, ts: 4000, outside: false },
  ];

  it('cuts the trail into inside and outside runs that join end to end', () => {
    const runs = trailRuns(pts);
    expect(runs.map((r) => r.outside)).toEqual([false, true, false]);
    expect(runs[1]!.latlngs).toEqual([
      [0, 1],
      [0, 2],
      [0, 3],
    ]);
    expect(runs[2]!.latlngs).toEqual([
      [0, 3],
      [0, 4],
    ]);
  });

  it('interpolates between vertices and clamps at the ends', () => {
    expect(positionAt(pts, 1500)).toEqual({ lat: 0, lon: 1.5 });
    expect(positionAt(pts, -5)).toMatchObject({ lon: 0 });
    expect(positionAt(pts, 99_999)).toMatchObject({ lon: 4 });
    expect(positionAt([], 0)).toBeNull();
  });
});
