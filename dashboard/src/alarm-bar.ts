// Overdue alarms (seed 000: the drain nobody accepted went overdue and raised an alarm). Visible:
// a red bar over the map naming the case, the stage missed and the grid, until an operator
// acknowledges it. Audible: a two-tone chime every few seconds while any alarm is open. Viewers
// see and hear it but cannot acknowledge (the hub refuses them too).
import type { AlarmView } from '../../protocol/socket-events.js';
import { ackAlarm } from './api-client.js';
import { escapeHtml, setHtml } from './html.js';
import { formatClock, t, tk } from './i18n.js';

const CHIME_EVERY_MS = 4000;

export interface AlarmBarDeps {
  incidentTitle(incidentId: string): string;
  regionName(code: string): string;
  open(incidentId: string): void;
  canAcknowledge(): boolean;
}

export class AlarmBar {
  private readonly open = new Map<number, AlarmView>();
  private audio: AudioContext | null = null;
  private chimes = 0;
  private error: string | null = null;

  constructor(
    private readonly el: HTMLElement,
    private readonly deps: AlarmBarDeps,
  ) {
    el.addEventListener('click', (e) => {
      const target = (e.target as HTMLElement).closest<HTMLElement>('[data-action]');
      if (!target) return;
      const id = Number(target.dataset.alarm);
      if (target.dataset.action === 'ack') void this.acknowledge(id);
      if (target.dataset.action === 'open') deps.open(target.dataset.incident ?? '');
    });
    // Browsers start audio only after a gesture; any click on the screen unlocks the chime.
    document.addEventListener(
      'pointerdown',
      () =>
        void this.context()
          ?.resume()
          .catch(() => undefined),
      { capture: true },
    );
    setInterval(() => {
      if (this.open.size > 0) this.chime();
    }, CHIME_EVERY_MS);
  }

  reset(list: AlarmView[]): void {
    this.open.clear();
    for (const a of list) if (a.acknowledgedAt === null) this.open.set(a.id, a);
    this.render();
  }

  /** A raised alarm chimes at once; an acknowledged one (here or on another screen) leaves. */
  apply(a: AlarmView): void {
    if (a.acknowledgedAt !== null) {
      this.open.delete(a.id);
    } else if (!this.open.has(a.id)) {
      this.open.set(a.id, a);
      this.chime();
    }
    this.render();
  }

  count(): number {
    return this.open.size;
  }

  chimeCount(): number {
    return this.chimes;
  }

  incidentIds(): Set<string> {
    return new Set([...this.open.values()].map((a) => a.incidentId));
  }

  /** Open alarms of one incident (the detail panel acknowledges them too). */
  forIncident(incidentId: string): AlarmView[] {
    return [...this.open.values()].filter((a) => a.incidentId === incidentId);
  }

  async acknowledge(id: number): Promise<void> {
    try {
      await ackAlarm(id);
      this.error = null;
      this.open.delete(id);
    } catch (err) {
      this.error = err instanceof Error ? err.message : String(err);
    }
    this.render();
  }

  render(): void {
    const list = [...this.open.values()].sort((a, b) => b.raisedAt - a.raisedAt || b.id - a.id);
    this.el.hidden = list.length === 0;
    document.body.classList.toggle('alarming', list.length > 0);
    const ack = this.deps.canAcknowledge();
    setHtml(
      this.el,
      `<div class="alarm-head"><span class="alarm-icon" aria-hidden="true">!</span><b>${escapeHtml(t('alarmTitle'))}</b><span class="alarm-count">${list.length}</span></div>` +
        `<ol>${list
          .slice(0, 5)
          .map(
            (a) => `<li class="alarm" data-alarm="${a.id}">
            <button type="button" class="linkish" data-action="open" data-incident="${escapeHtml(a.incidentId)}">${escapeHtml(this.deps.incidentTitle(a.incidentId))}</button>
            <span>${escapeHtml(tk('alarmStage', a.stage))} · ${escapeHtml(this.deps.regionName(a.gridCode))} · ${escapeHtml(formatClock(a.raisedAt))}</span>
            ${ack ? `<button type="button" class="ack" data-action="ack" data-alarm="${a.id}">${escapeHtml(t('acknowledge'))}</button>` : ''}</li>`,
          )
          .join('')}</ol>` +
        (list.length > 5 ? `<p class="alarm-more">+${list.length - 5}</p>` : '') +
        (this.error ? `<p class="alarm-error">${escapeHtml(this.error)}</p>` : ''),
    );
  }

  private context(): AudioContext | null {
    if (this.audio) return this.audio;
    try {
      this.audio = new AudioContext();
    } catch {
      this.audio = null;
    }
    return this.audio;
  }

  /** Two short tones (880 Hz, 660 Hz); silent until the browser allows audio, counted either way. */
  private chime(): void {
    this.chimes++;
    const ctx = this.context();
    if (ctx?.state !== 'running') return;
    const start = ctx.currentTime;
    [880, 660].forEach((freq, k) => {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, start + k * 0.25);
      gain.gain.exponentialRampToValueAtTime(0.3, start + k * 0.25 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + k * 0.25 + 0.22);
      osc.connect(gain).connect(ctx.destination);
      osc.start(start + k * 0.25);
      osc.stop(start + k * 0.25 + 0.25);
    });
  }
}
