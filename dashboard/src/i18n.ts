// Every user-visible string of the command screen, zh-CN first (the people at the screen read
// Chinese), English second. Times are shown in Asia/Shanghai whatever the browser's zone is
// (STYLE.md: store UTC, show Asia/Shanghai).

export type Lang = 'zh' | 'en';

const TEXT = {
  title: { zh: '网格化管理指挥中心', en: 'Grid Command Centre' },
  workersOnline: { zh: '在线网格员', en: 'Workers online' },
  onDuty: { zh: '在岗', en: 'On duty' },
  alertsToday: { zh: '今日告警', en: 'Alerts today' },
  feedTitle: { zh: '实时告警', en: 'Live alerts' },
  feedEmpty: { zh: '暂无告警', en: 'No alerts yet' },
  connected: { zh: '已连接', en: 'Connected' },
  connecting: { zh: '连接中', en: 'Connecting' },
  disconnected: { zh: '已断开', en: 'Disconnected' },
  legendOnDuty: { zh: '在岗网格员', en: 'Worker on duty' },
  legendOffDuty: { zh: '离岗(在线)', en: 'Off duty (online)' },
  legendOffline: { zh: '离线', en: 'Offline' },
  legendTrail: { zh: '近5分钟轨迹', en: 'Trail, last 5 min' },
  legendAlert: { zh: '告警位置', en: 'Alert location' },
  regionsFailed: { zh: '网格边界加载失败', en: 'Could not load grid boundaries' },
  device: { zh: '设备', en: 'Device' },
  grid: { zh: '网格', en: 'Grid' },
  switchLang: { zh: 'EN', en: '中文' },
  severity_critical: { zh: '紧急', en: 'critical' },
  severity_high: { zh: '高', en: 'high' },
  severity_medium: { zh: '中', en: 'medium' },
  severity_low: { zh: '低', en: 'low' },
  // Login and scope
  loginTitle: { zh: '登录指挥屏', en: 'Sign in to the command screen' },
  username: { zh: '用户名', en: 'Username' },
  password: { zh: '密码', en: 'Password' },
  signIn: { zh: '登录', en: 'Sign in' },
  signOut: { zh: '退出', en: 'Sign out' },
  loginFailed: { zh: '用户名或密码错误', en: 'Wrong username or password' },
  sessionEnded: { zh: '会话已结束，请重新登录', en: 'Your session ended; please sign in again' },
  role_admin: { zh: '管理员', en: 'Admin' },
  role_operator: { zh: '值班员', en: 'Operator' },
  role_viewer: { zh: '只读', en: 'Viewer' },
  // Drill-down
  level_district: { zh: '区', en: 'District' },
  level_street: { zh: '街道', en: 'Street' },
  level_community: { zh: '社区', en: 'Community' },
  level_grid: { zh: '网格', en: 'Grid' },
  // Worker states and card
  legendPatrolling: { zh: '巡查中', en: 'Patrolling' },
  legendOnTask: { zh: '处置任务中', en: 'On a task' },
  legendIdle: { zh: '长时间未移动', en: 'Idle too long' },
  legendTrail30: { zh: '近30分钟轨迹', en: 'Trail, last 30 min' },
  legendIncident: { zh: '事件', en: 'Incident' },
  state_patrolling: { zh: '巡查中', en: 'Patrolling' },
  state_onTask: { zh: '处置任务中', en: 'On a task' },
  state_idle: { zh: '长时间未移动', en: 'Idle too long' },
  state_offDuty: { zh: '离岗', en: 'Off duty' },
  state_offline: { zh: '离线', en: 'Offline' },
  workerRole_grid_worker: { zh: '网格员', en: 'Grid worker' },
  workerRole_grid_leader: { zh: '网格长', en: 'Grid leader' },
  workerRole_community_police: { zh: '社区民警', en: 'Community police' },
  workerRole_department_staff: { zh: '部门人员', en: 'Department staff' },
  workerRole_command: { zh: '指挥人员', en: 'Command' },
  role: { zh: '角色', en: 'Role' },
  status: { zh: '状态', en: 'State' },
  battery: { zh: '电量', en: 'Battery' },
  lastFix: { zh: '最后定位', en: 'Last fix' },
  currentTask: { zh: '当前任务', en: 'Current task' },
  // The worker card's handset protocol row; the values are the Devices page's protocol_* texts.
  cardProtocol: { zh: '协议', en: 'Protocol' },
  none: { zh: '无', en: 'None' },
  ago: { zh: '前', en: 'ago' },
  replayThisWorker: { zh: '回放今日轨迹', en: "Replay today's trail" },
  close: { zh: '关闭', en: 'Close' },
  // Tabs
  tabIncidents: { zh: '事件', en: 'Incidents' },
  tabAlerts: { zh: '告警', en: 'Alerts' },
  tabReplay: { zh: '轨迹回放', en: 'Trail replay' },
  // Replay
  worker: { zh: '人员', en: 'Worker' },
  day: { zh: '日期', en: 'Day' },
  load: { zh: '查询', en: 'Load' },
  play: { zh: '播放', en: 'Play' },
  pause: { zh: '暂停', en: 'Pause' },
  speed: { zh: '倍速', en: 'Speed' },
  clear: { zh: '清除', en: 'Clear' },
  replayEmpty: { zh: '当日无轨迹', en: 'No trail that day' },
  replayStops: { zh: '停留', en: 'Stops' },
  replayOutside: { zh: '出格', en: 'Out of grid' },
  replayDistance: { zh: '里程', en: 'Distance' },
  replayFixes: { zh: '定位点', en: 'Fixes' },
  loading: { zh: '加载中…', en: 'Loading…' },
  loadFailed: { zh: '加载失败', en: 'Could not load' },
  // Incidents
  filterAllStates: { zh: '全部状态', en: 'All states' },
  filterAllCategories: { zh: '全部类别', en: 'All categories' },
  filterAllGrids: { zh: '全部网格', en: 'All grids' },
  filterOverdue: { zh: '仅超时', en: 'Overdue only' },
  incidentsEmpty: { zh: '暂无事件', en: 'No incidents' },
  assignee: { zh: '处置人', en: 'Assignee' },
  unassigned: { zh: '未派单', en: 'Unassigned' },
  slaAccept: { zh: '接单时限', en: 'Accept by' },
  slaArrive: { zh: '到场时限', en: 'Arrive by' },
  slaResolve: { zh: '办结时限', en: 'Resolve by' },
  overdue: { zh: '已超时', en: 'Overdue' },
  left: { zh: '剩余', en: 'left' },
  auditLog: { zh: '处置记录', en: 'Audit log' },
  whyThisWorker: { zh: '派单依据', en: 'Why this worker' },
  part_responsibility: { zh: '责任网格', en: 'Responsibility' },
  part_distance: { zh: '距离', en: 'Distance' },
  part_load: { zh: '负荷', en: 'Load' },
  part_freshness: { zh: '定位新鲜度', en: 'Fix freshness' },
  part_fitness: { zh: '专业匹配', en: 'Fitness' },
  total: { zh: '总分', en: 'Total' },
  escalation: { zh: '上报层级', en: 'Escalation' },
  folded: { zh: '合并', en: 'folded' },
  priority_low: { zh: '低', en: 'low' },
  priority_normal: { zh: '一般', en: 'normal' },
  priority_high: { zh: '高', en: 'high' },
  priority_urgent: { zh: '紧急', en: 'urgent' },
  source_device_alert: { zh: '设备告警', en: 'Device alert' },
  source_patrol_report: { zh: '巡查上报', en: 'Patrol report' },
  source_resident: { zh: '群众反映', en: 'Resident' },
  source_operator: { zh: '坐席登记', en: 'Operator' },
  incAction_report: { zh: '登记', en: 'Reported' },
  incAction_dispatch: { zh: '派单', en: 'Offered' },
  incAction_accept: { zh: '接单', en: 'Accepted' },
  incAction_decline: { zh: '拒单', en: 'Declined' },
  incAction_offer_timeout: { zh: '超时未响应', en: 'No answer' },
  incAction_arrive: { zh: '到场', en: 'Arrived' },
  incAction_resolve: { zh: '处置完成', en: 'Resolved' },
  incAction_reject_resolution: { zh: '退回重办', en: 'Sent back' },
  incAction_verify: { zh: '核查', en: 'Verified' },
  incAction_close: { zh: '结案', en: 'Closed' },
  incAction_reopen: { zh: '重新办理', en: 'Reopened' },
  incAction_escalate: { zh: '上报', en: 'Escalated' },
  incAction_cancel: { zh: '撤销', en: 'Cancelled' },
  incAction_new_round: { zh: '重新派单', en: 'New round' },
  incAction_relocate: { zh: '重新定位', en: 'Relocated' },
  incState_reported: { zh: '待派单', en: 'Reported' },
  incState_dispatched: { zh: '已派单', en: 'Dispatched' },
  incState_accepted: { zh: '已接单', en: 'Accepted' },
  incState_on_site: { zh: '已到场', en: 'On site' },
  incState_resolved: { zh: '已处置', en: 'Resolved' },
  incState_verified: { zh: '已核查', en: 'Verified' },
  incState_closed: { zh: '已销号', en: 'Closed' },
  incState_escalated: { zh: '已上报', en: 'Escalated' },
  incState_reopened: { zh: '重新办理', en: 'Reopened' },
  incState_cancelled: { zh: '已撤销', en: 'Cancelled' },
  // Alarms
  alarmTitle: { zh: '超时报警', en: 'Overdue alarm' },
  acknowledge: { zh: '确认', en: 'Acknowledge' },
  alarmStage_accept: { zh: '超时未接单', en: 'not accepted in time' },
  alarmStage_arrive: { zh: '超时未到场', en: 'not on site in time' },
  alarmStage_resolve: { zh: '超时未办结', en: 'not resolved in time' },
  alarmStage_unassigned: { zh: '无人可派', en: 'nobody to dispatch to' },
  // Offers a handset cannot answer (docs/decisions/013): the operator calls and records the answer.
  alarmStage_call_worker: { zh: '需电话通知人员', en: 'call the worker' },
  reach_text: {
    zh: '该终端只能显示派单，不能回复：人员来电后，请代为录入',
    en: "The terminal shows the offer but cannot answer: record the worker's answer when they call",
  },
  reach_call: {
    zh: '该人员的手机收不到派单：请电话通知，再代为录入',
    en: "This worker's phone cannot receive offers: call them, then record their answer",
  },
  onBehalf_accept_for: { zh: '代接单', en: 'Accept for them' },
  onBehalf_decline_for: { zh: '代拒单', en: 'Decline for them' },
  onBehalf_arrive_for: { zh: '代报到场', en: 'Arrived (for them)' },
  onBehalf_resolve_for: { zh: '代报办结', en: 'Resolved (for them)' },
  onBehalfOf: { zh: '代', en: 'for' },
  actionFailed: { zh: '操作未成功', en: 'Not done' },
  via_own_grid: { zh: '本网格', en: 'own grid' },
  via_scope: { zh: '辖区内', en: 'in scope' },
  via_neighbour: { zh: '邻近人员', en: 'nearby' },
  candidateRank: { zh: '候选排名', en: 'Rank' },
  // KPIs
  kpiIncidentsToday: { zh: '今日事件', en: 'Incidents today' },
  kpiOpen: { zh: '在办', en: 'Open' },
  kpiClosed: { zh: '已办结', en: 'Closed' },
  kpiClosureRate: { zh: '办结率', en: 'Closure rate' },
  kpiOnTimeRate: { zh: '按时率', en: 'On time' },
  kpiMedianAccept: { zh: '接单中位', en: 'Median accept' },
  kpiMedianResolve: { zh: '办结中位', en: 'Median resolve' },
  kpiWorkersOnline: { zh: '在线人员', en: 'Online' },
  kpiWorkersOnPatrol: { zh: '巡查中', en: 'On patrol' },
  kpiUnavailable: { zh: '指标暂不可用', en: 'KPIs unavailable' },
  // Devices page (设备管理, issue 15): admins only
  devicesNav: { zh: '设备管理', en: 'Devices' },
  devicesTitle: { zh: '设备管理', en: 'Device registry' },
  devicesTotal: { zh: '设备数', en: 'Devices' },
  devicesAdd: { zh: '添加设备', en: 'Add device' },
  devicesSearch: { zh: '搜索编号或名称', en: 'Search id or name' },
  devicesAllKinds: { zh: '全部类型', en: 'All kinds' },
  devicesAllProtocols: { zh: '全部协议', en: 'All protocols' },
  devicesAnyState: { zh: '在线及离线', en: 'Online and offline' },
  devicesOnlineOnly: { zh: '仅在线', en: 'Online only' },
  devicesOfflineOnly: { zh: '仅离线', en: 'Offline only' },
  devicesEmpty: { zh: '没有符合条件的设备', en: 'No devices match' },
  kind_handset: { zh: '手持终端', en: 'Handset' },
  kind_door: { zh: '门禁', en: 'Door access' },
  kind_camera: { zh: '摄像头', en: 'Camera' },
  kind_sensor: { zh: '传感器', en: 'Sensor' },
  protocol_native: { zh: '平台协议', en: 'Native' },
  protocol_owntracks: { zh: 'OwnTracks', en: 'OwnTracks' },
  protocol_jt808: { zh: 'JT/T 808', en: 'JT/T 808' },
  colDevice: { zh: '设备', en: 'Device' },
  colKind: { zh: '类型', en: 'Kind' },
  colProtocol: { zh: '协议', en: 'Protocol' },
  colBound: { zh: '绑定', en: 'Bound to' },
  colOnline: { zh: '在线', en: 'Online' },
  colLastSeen: { zh: '最后上线', en: 'Last seen' },
  colActions: { zh: '操作', en: 'Actions' },
  deviceOnline: { zh: '在线', en: 'Online' },
  deviceOffline: { zh: '离线', en: 'Offline' },
  deviceDisabled: { zh: '已停用', en: 'Disabled' },
  deviceNever: { zh: '从未上线', en: 'Never' },
  deviceRotate: { zh: '重置密钥', en: 'Rotate secret' },
  deviceRotateConfirm: { zh: '确认重置？', en: 'Rotate now?' },
  deviceDisable: { zh: '停用', en: 'Disable' },
  deviceDisableConfirm: { zh: '确认停用？', en: 'Disable now?' },
  deviceEnable: { zh: '启用', en: 'Enable' },
  deviceSecretTitle: { zh: '设备密钥（仅显示一次）', en: 'Device secret (shown once)' },
  deviceSecretHint: {
    zh: '请立即配置到设备：用户名与客户端ID均为设备编号，密码为此密钥。关闭后无法再次查看，只能重置。',
    en: 'Configure the device now: username and client id are the device id, the password is this secret. Once closed it cannot be shown again, only rotated.',
  },
  deviceSecretDone: { zh: '已记录，关闭', en: 'Noted, close' },
  deviceCopy: { zh: '复制', en: 'Copy' },
  fieldDeviceId: { zh: '设备编号（留空自动生成）', en: 'Device id (empty: made for you)' },
  fieldName: { zh: '名称', en: 'Name' },
  fieldProtocolId: { zh: '协议标识（JT/T 808 终端号）', en: 'Protocol id (JT/T 808 terminal number)' },
  fieldWorker: { zh: '持有人员编号', en: 'Carried by (worker id)' },
  fieldLatLon: { zh: '位置（纬度, 经度）', en: 'Position (lat, lon)' },
  fieldModel: { zh: '型号', en: 'Model' },
  save: { zh: '保存', en: 'Save' },
  cancel: { zh: '取消', en: 'Cancel' },
} as const satisfies Record<string, Record<Lang, string>>;

export type TextKey = keyof typeof TEXT;

/** DESIGN §3 alert types. Unknown types (new firmware) are shown as sent. */
const ALERT_TYPES: Record<string, Record<Lang, string>> = {
  'door.forced': { zh: '强行开门', en: 'Door forced' },
  'door.held_open': { zh: '门未关', en: 'Door held open' },
  'door.stranger': { zh: '陌生人', en: 'Stranger' },
  'door.tailgating': { zh: '尾随', en: 'Tailgating' },
  'door.tamper': { zh: '设备被破坏', en: 'Device tampered' },
  'camera.intrusion': { zh: '入侵', en: 'Intrusion' },
  'camera.smoke': { zh: '烟雾', en: 'Smoke' },
  'camera.fire': { zh: '火情', en: 'Fire' },
  'camera.crowd': { zh: '人员聚集', en: 'Crowd' },
  'camera.fall': { zh: '跌倒', en: 'Fall' },
  'camera.garbage': { zh: '垃圾堆放', en: 'Garbage dumping' },
  'camera.parking': { zh: '违停', en: 'Illegal parking' },
};

/** Incident categories as seeded (hub/dispatch/sla-policy.ts); GET /api/categories overrides. */
export const CATEGORY_FALLBACK: Record<string, Record<Lang, string>> = {
  drain: { zh: '排水沟堵塞', en: 'Drain blocked' },
  road: { zh: '道路破损', en: 'Road damage' },
  garbage: { zh: '垃圾清运', en: 'Garbage' },
  noise: { zh: '噪音扰民', en: 'Noise' },
  parking: { zh: '违规停车', en: 'Illegal parking' },
  streetlight: { zh: '路灯不亮', en: 'Street light out' },
  dispute: { zh: '矛盾纠纷', en: 'Dispute' },
  hazard: { zh: '安全隐患', en: 'Safety hazard' },
  other: { zh: '其他', en: 'Other' },
};

let current: Lang = 'zh';
const listeners = new Set<(lang: Lang) => void>();

export function lang(): Lang {
  return current;
}

export function setLang(next: Lang): void {
  if (next === current) return;
  current = next;
  document.documentElement.lang = next === 'zh' ? 'zh-CN' : 'en';
  for (const fn of listeners) fn(next);
}

export function onLangChange(fn: (lang: Lang) => void): void {
  listeners.add(fn);
}

export function t(key: TextKey, l: Lang = current): string {
  return TEXT[key][l];
}

/** A keyed text whose key is built at run time (`state_${s}`); unknown keys show the raw value. */
export function tk(prefix: string, value: string, l: Lang = current): string {
  const key = `${prefix}_${value}`;
  return key in TEXT ? TEXT[key as TextKey][l] : value;
}

/** "3 min", "2 h 5 min", "45 s": a duration for a person at the screen. */
export function formatDuration(ms: number, l: Lang = current): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const zh = l === 'zh';
  if (s < 60) return zh ? `${s}秒` : `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return zh ? `${m}分钟` : `${m} min`;
  const h = Math.floor(m / 60);
  const rm = m % 60;
  if (h < 48) return zh ? `${h}小时${rm ? `${rm}分` : ''}` : `${h} h${rm ? ` ${rm} min` : ''}`;
  return zh ? `${Math.floor(h / 24)}天${h % 24}小时` : `${Math.floor(h / 24)} d ${h % 24} h`;
}

export function alertTypeLabel(type: string, l: Lang = current): string {
  return ALERT_TYPES[type]?.[l] ?? type;
}

export function severityLabel(severity: string | null, l: Lang = current): string | null {
  if (severity === null) return null;
  const key = `severity_${severity}`;
  return key in TEXT ? t(key as TextKey, l) : severity;
}

export const SHOW_TIME_ZONE = 'Asia/Shanghai';

const clockFmt = new Intl.DateTimeFormat('zh-CN', {
  timeZone: SHOW_TIME_ZONE,
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});
// en-CA formats dates as YYYY-MM-DD, which makes a cheap, sortable day key.
const dayFmt = new Intl.DateTimeFormat('en-CA', { timeZone: SHOW_TIME_ZONE, year: 'numeric', month: '2-digit', day: '2-digit' });

/** HH:mm:ss on the Shanghai wall clock. */
export function formatClock(epochMs: number): string {
  return clockFmt.format(epochMs);
}

/** YYYY-MM-DD of the Shanghai calendar day that holds this instant. */
export function shanghaiDay(epochMs: number): string {
  return dayFmt.format(epochMs);
}

/** Fills every `[data-i18n]` element under root with its text in the current language. */
export function applyStaticText(root: ParentNode): void {
  for (const el of root.querySelectorAll<HTMLElement>('[data-i18n]')) {
    const key = el.dataset.i18n;
    if (key !== undefined && key in TEXT) el.textContent = t(key as TextKey);
  }
}
