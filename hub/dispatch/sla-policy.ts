// SLA per incident category and priority: minutes to accept, to arrive, to resolve (DESIGN §4).
// The resolve default is 72 h: Rongcheng's ledger rule "确保责任单位在72小时内完成办理" (seed 001);
// higher priorities are tighter, none is looser. Tiers follow "small things stay in the grid,
// bigger ones go to the community, hard ones to the street" (街乡吹哨，部门报到, DESIGN §1).
// The table is data: a deployment may load its own and validate it with slaTableSchema.
import type { IncidentState } from './incident-state-machine.js';
import type { Priority } from '../../protocol/incident-vocabulary.js';

// The table's row schema is part of the HTTP contract (PUT /api/categories/:code, issue 17 item 4).
export { HANDLING_TIERS, deadlineMinutesSchema, slaCategorySchema, slaTableSchema } from '../../protocol/incident-api.js';
export type { HandlingTier, DeadlineMinutes, SlaCategory } from '../../protocol/incident-api.js';
import type { DeadlineMinutes, HandlingTier, SlaCategory } from '../../protocol/incident-api.js';

const H = 60;
type Profile = SlaCategory['deadlines'];
const d = (acceptMin: number, arriveMin: number, resolveMin: number): DeadlineMinutes => ({ acceptMin, arriveMin, resolveMin });
/** Complaints and patrol findings: 72 h to resolve at normal priority (seed 001). */
const STANDARD: Profile = {
  low: d(4 * H, 24 * H, 72 * H),
  normal: d(60, 4 * H, 72 * H),
  high: d(30, 2 * H, 24 * H),
  urgent: d(10, 30, 4 * H),
};
/** Door and intrusion alerts: someone must look now, the case itself is short. */
const SECURITY: Profile = { low: d(30, 2 * H, 24 * H), normal: d(15, 60, 8 * H), high: d(5, 20, 4 * H), urgent: d(3, 10, 2 * H) };
/** Life-safety (fire, smoke, a fall): minutes; the fire brigade is called in parallel, not by us. */
const EMERGENCY: Profile = { low: d(10, 30, 8 * H), normal: d(5, 15, 4 * H), high: d(3, 10, 2 * H), urgent: d(2, 8, 60) };
/** Disputes need appointments with both parties; 72 h still caps the case. */
const MEDIATION: Profile = {
  low: d(8 * H, 48 * H, 72 * H),
  normal: d(4 * H, 24 * H, 72 * H),
  high: d(60, 4 * H, 48 * H),
  urgent: d(15, 60, 24 * H),
};

const row = (
  code: string,
  nameZh: string,
  nameEn: string,
  defaultPriority: Priority,
  tier: HandlingTier,
  deadlines: Profile,
): SlaCategory => ({ code, nameZh, nameEn, defaultPriority, tier, deadlines });

export const DEFAULT_SLA_TABLE: readonly SlaCategory[] = Object.freeze([
  row('door.forced', '门禁被强行打开', 'Door forced open', 'high', 'grid', SECURITY),
  row('door.held_open', '门禁长时间未关', 'Door held open', 'normal', 'grid', SECURITY),
  row('door.stranger', '陌生人闯入', 'Stranger at door', 'normal', 'grid', SECURITY),
  row('door.tailgating', '尾随进入', 'Tailgating', 'low', 'grid', SECURITY),
  row('door.tamper', '门禁设备被破坏', 'Door device tampered', 'normal', 'grid', SECURITY),
  row('camera.intrusion', '区域入侵', 'Intrusion', 'high', 'grid', SECURITY),
  row('camera.smoke', '烟雾报警', 'Smoke', 'urgent', 'community', EMERGENCY),
  row('camera.fire', '火情报警', 'Fire', 'urgent', 'street', EMERGENCY),
  row('camera.crowd', '人员聚集', 'Crowd gathering', 'high', 'community', SECURITY),
  row('camera.fall', '人员跌倒', 'Person fallen', 'urgent', 'grid', EMERGENCY),
  row('camera.garbage', '垃圾堆放', 'Garbage dumped', 'low', 'grid', STANDARD),
  row('camera.parking', '违规停车', 'Illegal parking (camera)', 'low', 'grid', STANDARD),
  row('drain', '排水沟/下水道堵塞', 'Drain or sewer blocked', 'normal', 'community', STANDARD),
  row('road', '道路破损', 'Road damage', 'normal', 'street', STANDARD),
  row('garbage', '垃圾清运', 'Garbage', 'normal', 'grid', STANDARD),
  row('noise', '噪音扰民', 'Noise', 'normal', 'grid', STANDARD),
  row('parking', '违规停车', 'Illegal parking', 'normal', 'grid', STANDARD),
  row('streetlight', '路灯不亮', 'Street light out', 'normal', 'community', STANDARD),
  row('dispute', '矛盾纠纷调解', 'Dispute mediation', 'normal', 'community', MEDIATION),
  row('hazard', '安全隐患', 'Safety hazard', 'high', 'community', STANDARD),
  row('other', '其他', 'Other', 'normal', 'grid', STANDARD),
]);

/** Used for a category the table does not know: never "no deadline" (the drain story). */
export const FALLBACK_CATEGORY = 'other';

export interface Deadlines {
  acceptBy: number;
  arriveBy: number;
  resolveBy: number;
}

export function slaCategory(category: string, table: readonly SlaCategory[] = DEFAULT_SLA_TABLE): SlaCategory {
  const found = table.find((c) => c.code === category) ?? table.find((c) => c.code === FALLBACK_CATEGORY) ?? table[0];
  if (!found) throw new Error('SLA table is empty');
  return found;
}

/** Absolute deadlines (epoch ms) for a case whose SLA clock started at `from`. */
export function deadlinesFor(
  category: string,
  priority: Priority | undefined,
  from: number,
  table: readonly SlaCategory[] = DEFAULT_SLA_TABLE,
): Deadlines {
  const cat = slaCategory(category, table);
  const m = cat.deadlines[priority ?? cat.defaultPriority];
  const MIN = 60_000;
  return { acceptBy: from + m.acceptMin * MIN, arriveBy: from + m.arriveMin * MIN, resolveBy: from + m.resolveMin * MIN };
}

export type OverdueStage = 'accept' | 'arrive' | 'resolve';

/** States in which each deadline still counts (a resolved case can no longer miss "resolve"). */
const PENDING: Record<OverdueStage, readonly IncidentState[]> = {
  accept: ['reported', 'dispatched', 'escalated', 'reopened'],
  arrive: ['reported', 'dispatched', 'escalated', 'reopened', 'accepted'],
  resolve: ['reported', 'dispatched', 'escalated', 'reopened', 'accepted', 'on_site'],
};

/**
 * The missed deadlines of a case in `state` at `now`, earliest stage first: what raises the overdue
 * alarm on the command screens and climbs the ladder (seed 000: the drain went overdue → alarm).
 */
export function overdueStages(state: IncidentState, deadlines: Deadlines, now: number): OverdueStage[] {
  const by: Record<OverdueStage, number> = { accept: deadlines.acceptBy, arrive: deadlines.arriveBy, resolve: deadlines.resolveBy };
  return (['accept', 'arrive', 'resolve'] as const).filter((s) => PENDING[s].includes(state) && now >= by[s]);
}
