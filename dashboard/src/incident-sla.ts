// SLA arithmetic for the screen, pure (tested in node): which stages of an incident are overdue and
// which deadline the countdown shows. The hub's `overdue` list is the record; the clock adds the
// stages it has crossed since the last push, so a case turns red on time between pushes.
import type { IncidentView } from '../../protocol/socket-events.js';

const WAITING_ACCEPT: ReadonlySet<string> = new Set(['reported', 'dispatched', 'escalated', 'reopened']);
const DONE: ReadonlySet<string> = new Set(['resolved', 'verified', 'closed', 'cancelled']);

/** Stages past their deadline: the hub's list plus any the clock has crossed since. */
export function overdueStages(i: IncidentView, now: number): string[] {
  const out = new Set(i.overdue);
  if (!DONE.has(i.state)) {
    if (WAITING_ACCEPT.has(i.state) && now > i.acceptBy) out.add('accept');
    if ((WAITING_ACCEPT.has(i.state) || i.state === 'accepted') && now > i.arriveBy) out.add('arrive');
    if (now > i.resolveBy) out.add('resolve');
  }
  return [...out];
}

/** The deadline that matters now, for the countdown. */
export function nextDeadline(i: IncidentView): { stage: 'accept' | 'arrive' | 'resolve'; at: number } | null {
  if (DONE.has(i.state)) return null;
  if (WAITING_ACCEPT.has(i.state)) return { stage: 'accept', at: i.acceptBy };
  if (i.state === 'accepted') return { stage: 'arrive', at: i.arriveBy };
  return { stage: 'resolve', at: i.resolveBy };
}
