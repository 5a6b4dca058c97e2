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
