// The escalation ladder: grid worker → grid leader → community → street command (DESIGN §4).
// "小事不出格，大事不出社区，难事街道吹哨、部门报到" (DESIGN §1): each rung widens who may take the
// case and over which area. At the top nobody is "left": the street command centre holds the case
// and the screens alarm, so a case is never unowned (seed 000, the drain nobody accepted).
import type { HandlingTier } from './sla-policy.js';
import type { WorkerRole } from '../../protocol/worker-roles.js';
import type { OverdueStage } from './sla-policy.js';
import { ancestorAtLevel, descendantsAtLevel, type RegionTree } from '../regions/region-tree.js';

export type EscalationLevel = 0 | 1 | 2 | 3;
export type RungScope = 'grid' | 'community' | 'street';

export interface Rung {
  level: EscalationLevel;
  key: 'grid' | 'grid_leader' | 'community' | 'street_command';
  nameZh: string;
  nameEn: string;
  /** Roles that may be offered the case at this rung. */
  roles: readonly WorkerRole[];
  /** The area whose responsible workers are candidates (plus live-position neighbours). */
  scope: RungScope;
}

export const LADDER: readonly Rung[] = Object.freeze([
  { level: 0, key: 'grid', nameZh: '网格员', nameEn: 'Grid worker', roles: ['grid_worker'], scope: 'grid' },
  { level: 1, key: 'grid_leader', nameZh: '网格长', nameEn: 'Grid leader', roles: ['grid_leader'], scope: 'grid' },
  // Community secretaries serve as grid leaders (seed 003), community police sit in the community.
  {
    level: 2,
    key: 'community',
    nameZh: '社区',
    nameEn: 'Community',
    roles: ['grid_leader', 'community_police', 'grid_worker'],
    scope: 'community',
  },
  // "街乡吹哨，部门报到": the street whistles, departments report.
  {
    level: 3,
    key: 'street_command',
    nameZh: '街道指挥中心',
    nameEn: 'Street command',
    roles: ['command', 'department_staff', 'community_police'],
    scope: 'street',
  },
] as const);

export function rungFor(level: number): Rung {
  const rung = LADDER[Math.max(0, Math.min(LADDER.length - 1, Math.trunc(level)))];
  return rung;
}

/** Where a new case starts, from its category's handling tier (sla-policy). */
export function initialLevelForTier(tier: HandlingTier): EscalationLevel {
  return tier === 'grid' ? 0 : tier === 'community' ? 2 : 3;
}

export type LadderStep =
  | { kind: 'offer'; level: EscalationLevel; rung: Rung; workerId: string }
  | { kind: 'escalate'; fromLevel: EscalationLevel; toLevel: EscalationLevel; rung: Rung; alarm: boolean; reason: string }
  | { kind: 'hold_at_command'; level: 3; rung: Rung; alarm: true; reason: string };

/**
 * What to do with a case at `level` given the ranked candidates still left there: offer the best,
 * or climb one rung, or (at the top) hold it at street command with an alarm.
 */
export function nextStep(level: EscalationLevel, candidates: readonly { workerId: string }[]): LadderStep {
  const best = candidates[0];
  if (best) return { kind: 'offer', level, rung: rungFor(level), workerId: best.workerId };
  return climb(level, false, 'no_candidates');
}

/** A missed deadline always alarms and climbs (seed 000: overdue → alarm → escalation). */
export function onOverdue(level: EscalationLevel, stage: OverdueStage): LadderStep {
  return climb(level, true, `overdue:${stage}`);
}

function climb(level: EscalationLevel, alarm: boolean, reason: string): LadderStep {
  if (level >= 3) return { kind: 'hold_at_command', level: 3, rung: rungFor(3), alarm: true, reason };
  const toLevel = (level + 1) as EscalationLevel;
  return { kind: 'escalate', fromLevel: level, toLevel, rung: rungFor(toLevel), alarm, reason };
}

/** The grid codes whose workers answer for a case in `gridCode` at `level` (sorted). */
export function scopeGridCodes(tree: RegionTree, gridCode: string, level: EscalationLevel): string[] {
  const scope = rungFor(level).scope;
  if (scope === 'grid') return [gridCode];
  const area = ancestorAtLevel(tree, gridCode, scope);
  // A grid hung outside the tree (bad import) still has its own workers: never an empty scope.
  return area ? descendantsAtLevel(tree, area.code, 'grid') : [gridCode];
}
