// A task message as text for a handset that has a screen but no MQTT: a JT/T 808 terminal shows it
// and reads it aloud (0x8300, issue 15 §3). Short and Chinese: the category, the place, the
// deadline, the incident id a worker reads out on the phone. Such a terminal cannot answer an
// offer, so the text says how to: call the command centre, which records it (docs/decisions/013).
import type { TaskMessage } from '../../protocol/schemas.js';

export interface TaskTextNames {
  /** The category's Chinese name (the SLA table's nameZh), else its code. */
  categoryName: string;
  /** The owning grid's name, else null. */
  placeName: string | null;
}

const MAX_TITLE_CHARS = 30;

/** "10:35" in Asia/Shanghai; "9月30日 10:35" when the day differs from `now`'s. */
export function shanghaiTime(ms: number, now: number): string {
  const at = new Date(ms + 8 * 3600_000);
  const today = new Date(now + 8 * 3600_000);
  const hm = `${String(at.getUTCHours()).padStart(2, '0')}:${String(at.getUTCMinutes()).padStart(2, '0')}`;
  const sameDay =
    at.getUTCFullYear() === today.getUTCFullYear() && at.getUTCMonth() === today.getUTCMonth() && at.getUTCDate() === today.getUTCDate();
  return sameDay ? hm : `${at.getUTCMonth() + 1}月${at.getUTCDate()}日 ${hm}`;
}

/** Notes are bilingual ("任务已撤回 / task withdrawn"): the terminal gets the Chinese half. */
function chinese(note: string | undefined): string | null {
  const zh = note?.split(' / ')[0]?.trim();
  return zh ? zh : null;
}

export function taskText(m: TaskMessage, names: TaskTextNames): string {
  const id = `事件号${m.incidentId}`;
  if (m.kind === 'cancel') return `【任务撤回】${id}：${chinese(m.note) ?? '任务已撤回'}。`;
  if (m.kind === 'update') return `【任务更新】${id}${chinese(m.note) ? `：${chinese(m.note)}` : ''}。`;
  const title =
    m.title && m.title !== m.category && m.title !== names.categoryName ? [...m.title].slice(0, MAX_TITLE_CHARS).join('') : null;
  const what = [names.categoryName, names.placeName, title].filter(Boolean).join('，');
  const by = m.acceptBy === undefined ? '' : `请于${shanghaiTime(m.acceptBy, m.ts)}前`;
  return `【新任务】${what}。${by}致电指挥中心确认是否接单。${id}`;
}
