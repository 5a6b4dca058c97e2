// Error codes of the dispatch domain with their user messages (STYLE: one registry, zh-CN and en).
// The HTTP layer maps them into its envelope; VERSION_CONFLICT is the optimistic-concurrency miss.

export const DISPATCH_ERRORS = {
  VERSION_CONFLICT: { zh: '事件已被他人更新，请刷新后重试', en: 'The incident was changed by someone else; reload and retry' },
  ILLEGAL_TRANSITION: { zh: '当前状态下不能执行该操作', en: 'This action is not allowed in the current state' },
  ACTOR_NOT_ALLOWED: { zh: '您无权执行该操作', en: 'You are not allowed to perform this action' },
  NOT_ASSIGNEE: { zh: '只有被指派的人员可以执行该操作', en: 'Only the assigned worker can do this' },
  NOT_REPORTER: { zh: '只有反映人或坐席人员可以执行该操作', en: 'Only the reporter or an operator can do this' },
  SELF_VERIFICATION: { zh: '处置人不能核查自己办理的事件', en: 'The worker who handled the case cannot verify it' },
  REASON_REQUIRED: { zh: '该操作必须填写原因', en: 'This action needs a reason' },
  ESCALATION_AT_TOP: { zh: '已上报至街道指挥中心，无法继续上报', en: 'Already at street command; cannot escalate further' },
  INVALID_ESCALATION_LEVEL: { zh: '上报层级必须高于当前层级', en: 'The escalation level must be above the current one' },
  WORKER_ALREADY_TRIED: { zh: '该人员本轮已派过单', en: 'This worker was already offered this case in this round' },
  UNSATISFIED_CANNOT_CLOSE: { zh: '群众不满意，不能销号，请重新办理', en: 'The resident is unsatisfied: the case cannot be closed, reopen it' },
} as const satisfies Record<string, { zh: string; en: string }>;

export type DispatchErrorCode = keyof typeof DISPATCH_ERRORS;

export interface DispatchError {
  code: DispatchErrorCode;
  messageZh: string;
  messageEn: string;
  detail?: string;
}
