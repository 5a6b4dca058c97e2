// The alert feed panel: newest first, type in the reader's language, time on the Shanghai clock.
// Also keeps the "alerts today" count, which must survive the feed being trimmed.
import type { AlertView } from '../../protocol/socket-events.js';
import { alertTypeLabel, formatClock, severityLabel, shanghaiDay, t } from './i18n.js';

/** DOM entries kept; older ones scroll off (the incident list, not this feed, is the record). */
const MAX_ENTRIES = 200;

export class AlertFeed {
  private readonly entries: AlertView[] = [];
  /** Shanghai day of every alert seen, by id: dedupes snapshot + live. */
  private readonly days = new Map<string, string>();
  /** Alerts per Shanghai day, so "today" is a lookup even during an alert flood. */
  private readonly perDay = new Map<string, number>();

  constructor(
    private readonly list: HTMLElement,
    private readonly onPick: (a: AlertView) => void,
    /** Grid code → name, once /api/regions has loaded (the code until then). */
    private readonly regionName: (code: string) => string,
  ) {
    this.renderAll();
  }

  /** Snapshot alerts (any order). Known ids are skipped, so a resync never doubles the feed. */
  reset(alerts: AlertView[]): void {
    const fresh = alerts.filter((a) => !this.days.has(a.id)).sort((a, b) => a.ts - b.ts);
    for (const a of fresh) this.remember(a);
    this.entries.sort((a, b) => b.ts - a.ts);
    this.renderAll();
  }

  /** A live alert. Returns false for one already shown. */
  add(a: AlertView): boolean {
    if (this.days.has(a.id)) return false;
    this.remember(a);
    this.list.querySelector('.feed-empty')?.remove();
    const li = this.entry(a);
    li.classList.add('fresh');
    this.list.prepend(li);
    while (this.list.children.length > MAX_ENTRIES) this.list.lastElementChild?.remove();
    return true;
  }

  /** Entries in the feed (what a reader sees, up to the cap). */
  shown(): number {
    return this.list.querySelectorAll('.alert').length;
  }

  /** Alerts seen whose time falls on today's Shanghai calendar day. */
  today(now: number): number {
    return this.perDay.get(shanghaiDay(now)) ?? 0;
  }

  /** Language switch or region names arrived: rebuild the entries from data, not by patching text. */
  renderAll(): void {
    this.list.replaceChildren(...this.entries.slice(0, MAX_ENTRIES).map((a) => this.entry(a)));
    if (this.entries.length === 0) {
      const empty = document.createElement('li');
      empty.className = 'feed-empty';
      empty.textContent = t('feedEmpty');
      this.list.append(empty);
    }
  }

  private remember(a: AlertView): void {
    const day = shanghaiDay(a.ts);
    this.days.set(a.id, day);
    this.perDay.set(day, (this.perDay.get(day) ?? 0) + 1);
    this.entries.unshift(a);
    if (this.entries.length > MAX_ENTRIES) this.entries.length = MAX_ENTRIES;
    // Bound memory on a screen left running for weeks: forget ids from earlier days.
    if (this.days.size > 20_000) {
      for (const [id, d] of this.days) if (d !== day) this.days.delete(id);
    }
  }

  private entry(a: AlertView): HTMLLIElement {
    const li = document.createElement('li');
    li.className = `alert sev-${a.severity ?? 'none'} kind-${a.type.split('.')[0] ?? 'other'}`;
    li.dataset.id = a.id;
    li.dataset.type = a.type;

    const head = document.createElement('div');
    head.className = 'alert-head';
    const type = document.createElement('span');
    type.className = 'alert-type';
    type.textContent = alertTypeLabel(a.type);
    const when = document.createElement('time');
    when.dateTime = new Date(a.ts).toISOString();
    when.textContent = formatClock(a.ts);
    head.append(type);
    const sev = severityLabel(a.severity);
    if (sev !== null) {
      const badge = document.createElement('span');
      badge.className = 'alert-sev';
      badge.textContent = sev;
      head.append(badge);
    }
    head.append(when);

    const meta = document.createElement('div');
    meta.className = 'alert-meta';
    const parts = [`${t('device')} ${a.deviceId}`];
    if (a.gridCode !== null) {
      const name = this.regionName(a.gridCode);
      parts.push(name === a.gridCode ? `${t('grid')} ${name}` : name);
    }
    meta.textContent = parts.join(' · ');

    li.append(head, meta);
    if (a.lat !== null && a.lon !== null) {
      li.classList.add('locatable');
      li.tabIndex = 0;
      li.addEventListener('click', () => this.onPick(a));
      li.addEventListener('keydown', (e) => {
        if (e.key === 'Enter') this.onPick(a);
      });
    }
    return li;
  }
}
