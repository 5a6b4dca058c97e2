// The card a click on a worker's dot opens (issue 4, item 2): name, role, grid, state, battery,
// how old the last fix is, how the handset talks (native, OwnTracks, JT/T 808: issue 15 §4), and
// the task in hand. The age ticks every second while it is open.
import type { IncidentView, WorkerLive } from '../../protocol/socket-events.js';
import { escapeHtml, setHtml } from './html.js';
import { formatDuration, lang, t, tk } from './i18n.js';
import type { DotState } from './worker-layer.js';

export interface WorkerCardSource {
  info(workerId: string): WorkerLive | null;
  state(workerId: string): DotState | null;
  task(workerId: string): IncidentView | undefined;
  regionName(code: string): string;
  categoryName(code: string): string;
}

export class WorkerCard {
  private shown: string | null = null;

  constructor(
    private readonly el: HTMLElement,
    private readonly src: WorkerCardSource,
    private readonly actions: { openIncident(id: string): void; replay(workerId: string): void },
  ) {
    el.addEventListener('click', (e) => {
      const target = (e.target as HTMLElement).closest<HTMLElement>('[data-action]');
      if (!target || this.shown === null) return;
      const action = target.dataset.action;
      if (action === 'close') this.hide();
      else if (action === 'incident' && target.dataset.id) this.actions.openIncident(target.dataset.id);
      else if (action === 'replay') this.actions.replay(this.shown);
    });
    setInterval(() => this.render(), 1000);
  }

  show(workerId: string): void {
    this.shown = workerId;
    this.el.dataset.workerId = workerId; // which worker the open card is about (tests, screen readers' context)
    this.el.hidden = false;
    this.render();
  }

  hide(): void {
    this.shown = null;
    this.el.hidden = true;
  }

  current(): string | null {
    return this.shown;
  }

  render(): void {
    if (this.shown === null) return;
    const w = this.src.info(this.shown);
    if (!w) return this.hide();
    const state = this.src.state(w.workerId) ?? 'offline';
    const task = this.src.task(w.workerId);
    const age = w.ts === null ? '—' : `${formatDuration(Date.now() - w.ts)}${lang() === 'zh' ? '前' : ' ago'}`;
    const row = (label: string, value: string, cls = ''): string => `<dt>${escapeHtml(label)}</dt><dd class="${cls}">${value}</dd>`;
    const taskHtml = task
      ? `<button type="button" class="linkish" data-action="incident" data-id="${escapeHtml(task.id)}">${escapeHtml(task.title ?? this.src.categoryName(task.category))} · ${escapeHtml(tk('incState', task.state))}</button>`
      : escapeHtml(t('none'));
    setHtml(
      this.el,
      `
      <header><span class="card-dot state-${state}"></span><b class="card-name">${escapeHtml(w.name)}</b>
        <button type="button" class="card-close" data-action="close" aria-label="${escapeHtml(t('close'))}">×</button></header>
      <dl>
        ${row(t('role'), escapeHtml(tk('workerRole', w.role)))}
        ${row(t('grid'), escapeHtml(w.gridCode === null ? '—' : this.src.regionName(w.gridCode)))}
        ${row(t('status'), escapeHtml(tk('state', state)), `card-state state-${state}`)}
        ${row(t('battery'), w.battery === null ? '—' : `${Math.round(w.battery)}%`, w.battery !== null && w.battery < 20 ? 'low' : '')}
        ${row(t('lastFix'), escapeHtml(age), 'card-age')}
        ${row(t('cardProtocol'), escapeHtml(tk('protocol', w.protocol ?? 'native')), `card-protocol protocol-${escapeHtml(w.protocol ?? 'native')}`)}
        ${row(t('currentTask'), taskHtml, 'card-task')}
      </dl>
      <button type="button" class="card-replay" data-action="replay">${escapeHtml(t('replayThisWorker'))}</button>`,
    );
  }
}
