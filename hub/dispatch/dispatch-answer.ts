// A worker's answer to the offer they hold (accept, decline, arrived, resolved), as one plan step.
// It comes from their handset (`task-replies`), or an operator records it on their behalf when the
// handset cannot answer: a JT/T 808 screen, an OwnTracks phone (decision 013). Same state machine,
// same offer bookkeeping either way; only the actor differs (the operator, `onBehalfOf` the worker).
import type { OnBehalfAction } from '../../protocol/http-api.js';
import type { TaskReplyPayload } from '../../protocol/schemas.js';
import type { IncidentRecord } from './incident-record.js';
import type { Actor } from './incident-state-machine.js';
import type { OfferRecord, PlanBuilder } from './dispatch-plan.js';

export type Answer = TaskReplyPayload['reply'];

export const ANSWER_OF: Readonly<Record<OnBehalfAction, Answer>> = {
  accept_for: 'accept',
  decline_for: 'decline',
  arrive_for: 'arrived',
  resolve_for: 'resolved',
};

/** The offer is still the worker's to answer: pending on a dispatched case, or accepted and theirs. */
export function offerIsLive(offer: OfferRecord, inc: IncidentRecord, workerId: string): boolean {
  return (offer.status === 'pending' && inc.state === 'dispatched') || (offer.status === 'accepted' && inc.assigneeId === workerId);
}

/** Applies the answer; throws DispatchFailure when the state machine refuses it. */
export function planAnswer(
  b: PlanBuilder,
  offer: OfferRecord,
  answer: Answer,
  actor: Actor,
  text: { reason?: string; note?: string } = {},
): void {
  switch (answer) {
    case 'accept':
      b.apply({ type: 'accept' }, actor);
      b.plan.offerStatus.push({ taskId: offer.taskId, status: 'accepted' });
      break;
    case 'decline':
      b.apply({ type: 'decline', ...(text.reason ? { reason: text.reason.slice(0, 500) } : {}) }, actor);
      b.plan.offerStatus.push({ taskId: offer.taskId, status: 'declined' });
      b.route();
      break;
    case 'arrived':
      b.apply({ type: 'arrive' }, actor);
      break;
    case 'resolved':
      b.apply({ type: 'resolve', ...(text.note ? { reason: text.note.slice(0, 500) } : {}) }, actor);
      break;
  }
  if (answer === 'accept' || answer === 'decline') b.settleCall(offer, actor.id);
  // A terminal's screen showed the offer but cannot show an answer of its own: tell it what the
  // command centre recorded, so the worker sees the case is theirs.
  if (answer === 'accept' && actor.onBehalfOf && offer.deviceId && b.reachOf(offer.deviceId) === 'text') {
    b.message(offer.deviceId, {
      kind: 'update',
      taskId: offer.taskId,
      note: '指挥中心已为您确认接单 / accepted on your behalf by the command centre',
    });
  }
}
