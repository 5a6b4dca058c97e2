// The one registry of error codes and their user messages, zh-CN first (STYLE). Modules keep their
// codes in their own table here; the HTTP error handler puts `code` and the message in its envelope.

export interface UserMessage {
  zh: string;
  en: string;
}

// Dispatch domain. VERSION_CONFLICT is the optimistic-concurrency miss.
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
} as const satisfies Record<string, UserMessage>;

// Analytics API.
export const ANALYTICS_ERRORS = {
  BAD_TIME: { zh: '时间格式错误，应为 ISO-8601', en: 'Times must be ISO-8601' },
  BAD_RANGE: { zh: '开始时间须早于结束时间，且跨度不超过 7 天', en: 'from must be before to, and the span at most 7 days' },
  BAD_DATE: { zh: '日期格式错误，应为 YYYY-MM-DD', en: 'The date must be YYYY-MM-DD' },
  GRID_NOT_FOUND: { zh: '网格不存在', en: 'No such grid' },
} as const satisfies Record<string, UserMessage>;

export const ERROR_MESSAGES = { ...DISPATCH_ERRORS, ...ANALYTICS_ERRORS } as const;
export type ErrorCode = keyof typeof ERROR_MESSAGES;

/** An error a user may see: a registered code, an HTTP status, the bilingual message. */
export class AppError<C extends ErrorCode = ErrorCode> extends Error {
  constructor(
    readonly code: C,
    readonly statusCode: number,
  ) {
    super(`${ERROR_MESSAGES[code].zh} / ${ERROR_MESSAGES[code].en}`);
  }
}
