// The one registry of error codes: each code's HTTP status and its user message, zh-CN first (STYLE).
// Modules keep their codes in their own table here; an AppError takes its status from its code
// (issue 17: no route keeps a status table of its own), and the HTTP error handler puts `code`, the
// message and the error's details in the one envelope.

export interface UserMessage {
  /** The HTTP status every reply with this code carries. */
  status: number;
  zh: string;
  en: string;
}

// Dispatch domain. VERSION_CONFLICT is the optimistic-concurrency miss.
export const DISPATCH_ERRORS = {
  VERSION_CONFLICT: { status: 409, zh: '事件已被他人更新，请刷新后重试', en: 'The incident was changed by someone else; reload and retry' },
  ILLEGAL_TRANSITION: { status: 409, zh: '当前状态下不能执行该操作', en: 'This action is not allowed in the current state' },
  ACTOR_NOT_ALLOWED: { status: 403, zh: '您无权执行该操作', en: 'You are not allowed to perform this action' },
  NOT_ASSIGNEE: { status: 403, zh: '只有被指派的人员可以执行该操作', en: 'Only the assigned worker can do this' },
  NOT_REPORTER: { status: 403, zh: '只有反映人或坐席人员可以执行该操作', en: 'Only the reporter or an operator can do this' },
  SELF_VERIFICATION: { status: 403, zh: '处置人不能核查自己办理的事件', en: 'The worker who handled the case cannot verify it' },
  REASON_REQUIRED: { status: 422, zh: '该操作必须填写原因', en: 'This action needs a reason' },
  ESCALATION_AT_TOP: { status: 409, zh: '已上报至街道指挥中心，无法继续上报', en: 'Already at street command; cannot escalate further' },
  INVALID_ESCALATION_LEVEL: { status: 409, zh: '上报层级必须高于当前层级', en: 'The escalation level must be above the current one' },
  WORKER_ALREADY_TRIED: { status: 409, zh: '该人员本轮已派过单', en: 'This worker was already offered this case in this round' },
  UNSATISFIED_CANNOT_CLOSE: {
    status: 409,
    zh: '群众不满意，不能销号，请重新办理',
    en: 'The resident is unsatisfied: the case cannot be closed, reopen it',
  },
  INCIDENT_NOT_FOUND: { status: 404, zh: '事件不存在', en: 'No such incident' },
  ALARM_NOT_FOUND: { status: 404, zh: '告警不存在', en: 'No such alarm' },
  BAD_RECEIPT: { status: 403, zh: '回执码不正确', en: 'The receipt token does not match this complaint' },
  NOT_RATABLE: { status: 409, zh: '事件尚未办结，暂不能评价', en: 'The case is not resolved yet and cannot be rated' },
  ACTION_NOT_OFFERED: { status: 409, zh: '该操作不能通过此接口执行', en: 'This action cannot be done through this endpoint' },
  CATEGORY_INVALID: { status: 422, zh: '事件类别配置不合法', en: 'The category definition is invalid' },
  RATE_LIMITED: { status: 429, zh: '提交过于频繁，请稍后再试', en: 'Too many requests from this address; try again in a minute' },
} as const satisfies Record<string, UserMessage>;

// Analytics API.
export const ANALYTICS_ERRORS = {
  BAD_TIME: { status: 400, zh: '时间格式错误，应为 ISO-8601', en: 'Times must be ISO-8601' },
  BAD_RANGE: {
    status: 400,
    zh: '开始时间须早于结束时间，且跨度不超过上限（轨迹 7 天，其他统计 366 天）',
    en: 'from must be before to, and the span within the limit (trails 7 days, other statistics 366 days)',
  },
  BAD_DATE: { status: 400, zh: '日期格式错误，应为 YYYY-MM-DD', en: 'The date must be YYYY-MM-DD' },
  GRID_NOT_FOUND: { status: 404, zh: '网格不存在', en: 'No such grid' },
} as const satisfies Record<string, UserMessage>;

// Regions import/export (hub/regions/region-routes.ts, cli/regions-cli.ts).
export const REGION_ERRORS = {
  REGIONS_UNPARSEABLE: {
    status: 422,
    zh: '文件不是区划 GeoJSON（FeatureCollection，要素属性含 code、parent、level、name）',
    en: 'Not a region GeoJSON (a FeatureCollection whose features have code, parent, level and name)',
  },
  REGIONS_INVALID: {
    status: 422,
    zh: '区划树有结构错误，未做任何修改；请按问题列表修正后重新导入',
    en: 'The region tree has structural errors; nothing was changed. Fix the listed problems and import again',
  },
  REGIONS_GEOMETRY_REFUSED: {
    status: 422,
    zh: '区划存在重叠、缝隙或越界，未做任何修改；修正后重新导入，或明确接受（accept=overlaps,gaps,outside）',
    en: 'Regions overlap, leave gaps or reach outside their parent; nothing was changed. Fix them, or accept them explicitly (accept=overlaps,gaps,outside)',
  },
  REGIONS_NO_GRID: {
    status: 422,
    zh: '区划树中没有任何网格，无法确定事件归属',
    en: 'The region tree has no grid, so no incident could have an owner',
  },
  REGIONS_IN_USE: {
    status: 409,
    zh: '有设备挂在将被删除的区划上，未做任何修改；请先迁移这些设备，或用 accept=detach 解除挂接',
    en: 'Devices hang in regions this import removes; nothing was changed. Move them first, or detach them with accept=detach',
  },
  REGION_NOT_FOUND: { status: 404, zh: '区划不存在', en: 'No such region' },
} as const satisfies Record<string, UserMessage>;

// People API (hub/people/worker-routes.ts).
export const PEOPLE_ERRORS = {
  WORKER_NOT_FOUND: { status: 404, zh: '人员不存在', en: 'No such worker' },
  WORKERS_INVALID: {
    status: 422,
    zh: '人员数据有误，未做任何修改；请按问题列表修正后重试',
    en: 'The worker list has errors; nothing was changed. Fix the listed problems and retry',
  },
} as const satisfies Record<string, UserMessage>;

// Command-screen login and scope (hub/auth/auth-plugin.ts, issue 4).
export const AUTH_ERRORS = {
  UNAUTHENTICATED: { status: 401, zh: '请先登录', en: 'Please sign in' },
  BAD_CREDENTIALS: { status: 401, zh: '用户名或密码错误', en: 'Wrong username or password' },
  READ_ONLY: { status: 403, zh: '只读账号不能执行该操作', en: 'A read-only account cannot do this' },
  OUT_OF_SCOPE: { status: 403, zh: '超出您的管辖范围', en: 'Outside your area' },
} as const satisfies Record<string, UserMessage>;

// Device registry (hub/devices/device-registry.ts, device-routes.ts, cli/devices-cli.ts).
export const DEVICE_ERRORS = {
  DEVICE_NOT_FOUND: { status: 404, zh: '设备不存在', en: 'No such device' },
  DEVICE_EXISTS: { status: 409, zh: '设备编号已存在', en: 'A device with this id exists already' },
  DEVICE_PROTOCOL_ID_TAKEN: {
    status: 409,
    zh: '该协议标识（终端号）已被其他设备使用',
    en: 'Another device already has this protocol identity (terminal number)',
  },
  DEVICE_INVALID: { status: 422, zh: '设备数据有误，未做任何修改', en: 'The device data is invalid; nothing was changed' },
  DEVICE_UNKNOWN_WORKER: { status: 422, zh: '绑定的人员不存在', en: 'The bound worker does not exist' },
  DEVICE_UNKNOWN_GRID: { status: 422, zh: '绑定的网格不存在', en: 'The bound grid does not exist' },
  DEVICE_OUT_OF_SCOPE: { status: 403, zh: '设备不在您的管辖范围内', en: 'The device is outside your area' },
  DEVICE_ADMIN_ONLY: { status: 403, zh: '只有管理员可以修改设备', en: 'Only an admin can change devices' },
} as const satisfies Record<string, UserMessage>;

// OwnTracks over HTTP (gateways/owntracks/owntracks-http.ts): the app's POST and the setup endpoints.
export const OWNTRACKS_ERRORS = {
  OWNTRACKS_UNAUTHENTICATED: { status: 401, zh: '设备编号或密钥错误', en: 'Wrong device id or secret' },
  OWNTRACKS_FORBIDDEN: { status: 403, zh: '该设备已停用或不是 OwnTracks 手机', en: 'The device is disabled or is not an OwnTracks phone' },
  OWNTRACKS_TOO_MANY: { status: 429, zh: '错误尝试过多，请稍后再试', en: 'Too many wrong attempts; try again later' },
  OWNTRACKS_UNAVAILABLE: { status: 503, zh: '暂时无法保存，请稍后重试', en: 'Cannot store right now; the app will retry' },
  OWNTRACKS_NOT_FOUND: { status: 404, zh: '设备不存在', en: 'No such device' },
  OWNTRACKS_NOT_OWNTRACKS: { status: 409, zh: '该设备的协议不是 OwnTracks', en: 'The device does not use the OwnTracks protocol' },
  OWNTRACKS_SECRET_MISMATCH: {
    status: 422,
    zh: '密钥与该设备不符（请用刚显示的密钥）',
    en: "The secret is not this device's (use the one just shown)",
  },
  OWNTRACKS_SETUP_INVALID: { status: 422, zh: '配置参数有误', en: 'The setup parameters are invalid' },
} as const satisfies Record<string, UserMessage>;

export const ERROR_MESSAGES = {
  ...DISPATCH_ERRORS,
  ...ANALYTICS_ERRORS,
  ...REGION_ERRORS,
  ...PEOPLE_ERRORS,
  ...AUTH_ERRORS,
  ...DEVICE_ERRORS,
  ...OWNTRACKS_ERRORS,
} as const;
export type ErrorCode = keyof typeof ERROR_MESSAGES;

/** The message every envelope carries: zh-CN, then en. */
export function userMessage(code: ErrorCode): string {
  return `${ERROR_MESSAGES[code].zh} / ${ERROR_MESSAGES[code].en}`;
}

/** The one error envelope, with a module's details (issues, ids …) beside `error`. */
export function errorEnvelope(
  code: ErrorCode,
  details: Record<string, unknown> = {},
): { ok: false; error: { code: ErrorCode; message: string } } {
  return { ok: false, error: { code, message: userMessage(code) }, ...details };
}

/** The HTTP status of a code, from the registry. */
export function errorStatus(code: ErrorCode): number {
  return ERROR_MESSAGES[code].status;
}

/** An error a user may see: a registered code, its HTTP status (from the registry), the bilingual
 *  message, and details (issues, problems, ids …) that the envelope carries beside `error`. */
export class AppError<C extends ErrorCode = ErrorCode> extends Error {
  readonly statusCode: number;
  constructor(
    readonly code: C,
    readonly details: Record<string, unknown> = {},
  ) {
    super(userMessage(code));
    this.statusCode = errorStatus(code);
  }
}
