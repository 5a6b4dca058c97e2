import { describe, expect, it } from 'vitest';
import { initialLevelForTier, LADDER, nextStep, onOverdue, rungFor, scopeGridCodes } from '../../../hub/dispatch/dispatch-ladder.js';
import { parseRegions } from '../../../hub/regions/region-tree.js';
import { fixture } from '../regions/fixtures.js';

describe('dispatch ladder', () => {
  it('climbs grid worker → grid leader → community → street command', () => {
    expect(LADDER.map((r) => r.key)).toEqual(['grid', 'grid_leader', 'community', 'street_command']);
    expect(rungFor(1).roles).toEqual(['grid_leader']);
    expect(rungFor(3).roles).toContain('department_staff'); // 街乡吹哨，部门报到
  });

  it('offers to the best candidate while there is one', () => {
    expect(nextStep(0, [{ workerId: 'w2' }, { workerId: 'w1' }])).toMatchObject({ kind: 'offer', level: 0, workerId: 'w2' });
  });

  it('moves one rung up when nobody is left, without an alarm', () => {
    expect(nextStep(0, [])).toMatchObject({ kind: 'escalate', fromLevel: 0, toLevel: 1, alarm: false, reason: 'no_candidates' });
    expect(nextStep(2, [])).toMatchObject({ kind: 'escalate', toLevel: 3, rung: { key: 'street_command' } });
  });

  it('holds the case at street command with an alarm when even the top is empty: never unowned', () => {
    expect(nextStep(3, [])).toMatchObject({ kind: 'hold_at_command', level: 3, alarm: true });
  });

  it('alarms and climbs on a missed deadline (seed 000)', () => {
    expect(onOverdue(0, 'accept')).toMatchObject({ kind: 'escalate', toLevel: 1, alarm: true, reason: 'overdue:accept' });
    expect(onOverdue(3, 'resolve')).toMatchObject({ kind: 'hold_at_command', alarm: true, reason: 'overdue:resolve' });
  });

  it('starts community and street tier categories higher up', () => {
    expect([initialLevelForTier('grid'), initialLevelForTier('community'), initialLevelForTier('street')]).toEqual([0, 2, 3]);
  });

  it('widens the scope from the grid to its community and street', () => {
    const { tree } = parseRegions(fixture('two-streets.geojson'), { skipGeometry: true });
    expect(scopeGridCodes(tree, '430211002001-01', 1)).toEqual(['430211002001-01']);
    expect(scopeGridCodes(tree, '430211002001-01', 2)).toEqual(['430211002001-01', '430211002001-02', '430211002001-03']);
    expect(scopeGridCodes(tree, '430211001001-02', 3)).toEqual(['430211001001-01', '430211001001-02']);
    expect(scopeGridCodes(tree, 'not-in-tree', 3)).toEqual(['not-in-tree']);
  });
});
