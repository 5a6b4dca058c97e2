// The incident detail panel (issue 4, item 4): what, where, who has it, the SLA countdown per
// stage (red once missed), "why this worker" (the offer's score parts, DESIGN §4: every choice
// explainable) and the audit log. Detail comes from GET /api/incidents/:id; the live view from
// the board, so the countdown and state never wait for the fetch. When the assignee's handset
// cannot answer an offer (a JT/T 808 screen, an OwnTracks phone: docs/decisions/013), operators get
// buttons to record the worker's answer on their behalf (POST /api/incidents/:id/actions, accept_for …).
import type { AlarmView, IncidentView } from '../../protocol/socket-events.js';
import { TASK_REACH, type OnBehalfAction, type TaskReach } from '../../protocol/http-api.js';
import { getJson, isRecord, postJson, type AuditEntry, type IncidentDetail, type OfferView } from './api-client.js';
import { escapeHtml, setHtml } from './html.js';
import { formatClock, formatDuration, t, tk, type TextKey } from './i18n.js';
import { overdueStages } from './incident-sla.js';

const PARTS = ['responsibility', 'distance', 'load', 'freshness', 'fitness'] as const;

/** The assignee's answers an operator may record for them, by the case's state (the state machine's). */
const ON_BEHALF_BY_STATE: Partial<Record<string, readonly OnBehalfAction[]>> = {
  dispatched: ['accept_for', 'decline_for'],
  accepted: ['arrive_for', 'resolve_for'],
  on_site: ['resolve_for'],
};

type Detail = IncidentDetail & { assigneeReach: TaskReach | null };

/** GET /api/incidents/:id: audit, offers, and how the assignee's handset takes offers. */
async function fetchDetail(id: string): Promise<Detail> {
  const body = await getJson(`/api/incidents/${encodeURIComponent(id)}`);
  if (!isRecord(body)) return { audit: [], offers: [], assigneeReach: null };
  const reach = TASK_REACH.find((r) => r === body.assigneeReach) ?? null;
  return {
    audit: Array.isArray(body.audit) ? (body.audit as AuditEntry[]) : [],
    offers: Array.isArray(body.offers) ? (body.offers as OfferView[]) : [],
    assigneeReach: reach,
  };
}

export interface IncidentDetailDeps {
  get(id: string): IncidentView | undefined;
  categoryName(code: string): string;
  regionName(code: string): string;
  workerName(id: string): string;
  focus(id: string): void;
  alarms(incidentId: string): AlarmView[];
  /** Operators and admins (not viewers): acknowledge alarms, record answers on a worker's behalf. */
  canAcknowledge(): boolean;
  acknowledge(alarmId: number): Promise<void>;
}

function toMs(v: string | number): number {
  return typeof v === 'number' ? v : Date.parse(v);
}

export class IncidentDetailPanel {
  private shown: string | null = null;
  private detail: Detail | null = null;
  private detailVersion = -1;
  /** The incident version the shown detail was read at (the buttons act only on that one). */
  private loadedVersion = -1;
  private detailError = false;
  private acting = false;
  private actionError: string | null = null;

  constructor(
    private readonly el: HTMLElement,
    private readonly deps: IncidentDetailDeps,
  ) {
    el.addEventListener('click', (e) => {
      const action = (e.target as HTMLElement).closest<HTMLElement>('[data-action]')?.dataset.action;
      if (action === 'close') this.hide();
      if (action === 'locate' && this.shown) deps.focus(this.shown);
      const alarm = (e.target as HTMLElement).closest<HTMLElement>('[data-alarm]')?.dataset.alarm;
      if (action === 'ack' && alarm !== undefined) void deps.acknowledge(Number(alarm)).then(() => this.render());
      const onBehalf = (e.target as HTMLElement).closest<HTMLElement>('[data-on-behalf]')?.dataset.onBehalf;
      if (action === 'on-behalf' && onBehalf) void this.recordForAssignee(onBehalf as OnBehalfAction);
    });
    setInterval(() => this.render(), 1000);
  }

  show(id: string): void {
    this.shown = id;
    this.detail = null;
    this.detailVersion = -1;
    this.loadedVersion = -1;
    this.actionError = null;
    this.el.hidden = false;
    this.deps.focus(id);
    this.refresh();
  }

  hide(): void {
    this.shown = null;
    this.el.hidden = true;
  }

  current(): string | null {
    return this.shown;
  }

  /** The incident changed (a push): re-read its audit and offers once per version. */
  refresh(): void {
    const id = this.shown;
    const view = id === null ? undefined : this.deps.get(id);
    if (id === null || !view) return this.render();
    if (view.version !== this.detailVersion) {
      this.detailVersion = view.version;
      const version = view.version;
      fetchDetail(id).then(
        (d) => {
          if (this.shown !== id) return;
          this.detail = d;
          this.loadedVersion = version;
          this.detailError = false;
          this.render();
        },
        () => {
          this.detailError = true; // the route may not be deployed yet: the live part still shows
          this.render();
        },
      );
    }
    this.render();
  }

  render(): void {
    if (this.shown === null) return;
    const i = this.deps.get(this.shown);
    if (!i) return this.hide();
    const now = Date.now();
    const late = new Set(overdueStages(i, now));
    const sla = (['accept', 'arrive', 'resolve'] as const)
      .map((stage) => {
        const at = stage === 'accept' ? i.acceptBy : stage === 'arrive' ? i.arriveBy : i.resolveBy;
        const key = `sla${stage[0]!.toUpperCase()}${stage.slice(1)}` as TextKey;
        const isLate = late.has(stage);
        const text = isLate ? `${t('overdue')} ${formatDuration(now - at)}` : `${formatDuration(at - now)}`;
        return `<li class="sla-row${isLate ? ' late' : ''}" data-stage="${stage}"><span>${escapeHtml(t(key))}</span><time>${escapeHtml(formatClock(at))}</time><b class="countdown">${escapeHtml(text)}</b></li>`;
      })
      .join('');
    const assignee = i.assigneeId === null ? t('unassigned') : this.deps.workerName(i.assigneeId);
    setHtml(
      this.el,
      `
      <header class="${late.size > 0 ? 'overdue' : ''}">
        <b>${escapeHtml(i.title ?? this.deps.categoryName(i.category))}</b>
        <button type="button" class="card-close" data-action="close" aria-label="${escapeHtml(t('close'))}">×</button>
      </header>
      <div class="inc-tags"><span class="tag st-${escapeHtml(i.state)}">${escapeHtml(tk('incState', i.state))}</span>
        <span class="tag pr-${escapeHtml(i.priority)}">${escapeHtml(tk('priority', i.priority))}</span>
        <span class="tag">${escapeHtml(this.deps.categoryName(i.category))}</span>
        <span class="tag">${escapeHtml(tk('source', i.source))}</span>
        ${i.escalationLevel > 0 ? `<span class="tag esc">${escapeHtml(t('escalation'))} ${i.escalationLevel}</span>` : ''}
        ${i.foldCount > 1 ? `<span class="tag">×${i.foldCount} ${escapeHtml(t('folded'))}</span>` : ''}</div>
      <dl>
        <dt>${escapeHtml(t('grid'))}</dt><dd><button type="button" class="linkish" data-action="locate">${escapeHtml(this.deps.regionName(i.gridCode))}</button></dd>
        <dt>${escapeHtml(t('assignee'))}</dt><dd class="inc-assignee">${escapeHtml(assignee)}</dd>
      </dl>
      ${this.alarmHtml(i)}
      ${this.onBehalfHtml(i)}
      <ul class="sla-list">${sla}</ul>
      ${this.whyHtml(i)}
      ${this.auditHtml()}`,
    );
    // The bars' widths through the CSSOM: the screen's CSP refuses style attributes in markup (issue 16).
    for (const bar of this.el.querySelectorAll<HTMLElement>('.parts i[data-w]')) bar.style.setProperty('--w', `${bar.dataset.w ?? 0}%`);
  }

  private alarmHtml(i: IncidentView): string {
    const open = this.deps.alarms(i.id);
    if (open.length === 0) return '';
    const ack = this.deps.canAcknowledge();
    return `<ul class="detail-alarms">${open
      .map(
        (
          a,
        ) => `<li data-alarm="${a.id}"><b>${escapeHtml(t('alarmTitle'))}</b> ${escapeHtml(tk('alarmStage', a.stage))} · ${escapeHtml(formatClock(a.raisedAt))}
          ${ack ? `<button type="button" class="ack" data-action="ack" data-alarm="${a.id}">${escapeHtml(t('acknowledge'))}</button>` : ''}</li>`,
      )
      .join('')}</ul>`;
  }

  /** The worker's handset cannot answer: say so, and offer the answers the state allows. */
  private onBehalfHtml(i: IncidentView): string {
    const reach = this.detail?.assigneeReach ?? null;
    if (i.assigneeId === null || reach === null || reach === 'device' || this.loadedVersion !== i.version) return '';
    const actions = this.deps.canAcknowledge() ? (ON_BEHALF_BY_STATE[i.state] ?? []) : [];
    const buttons = actions
      .map(
        (a) =>
          `<button type="button" class="on-behalf" data-action="on-behalf" data-on-behalf="${a}"${this.acting ? ' disabled' : ''}>${escapeHtml(tk('onBehalf', a))}</button>`,
      )
      .join('');
    return `<section class="on-behalf-box" data-reach="${reach}"><p>${escapeHtml(tk('reach', reach))}</p>
      ${buttons ? `<div class="on-behalf-actions">${buttons}</div>` : ''}
      ${this.actionError ? `<p class="action-error">${escapeHtml(t('actionFailed'))}: ${escapeHtml(this.actionError)}</p>` : ''}</section>`;
  }

  /** Records the assignee's answer at the version on screen; the push that follows re-reads the case. */
  private async recordForAssignee(type: OnBehalfAction): Promise<void> {
    const id = this.shown;
    const view = id === null ? undefined : this.deps.get(id);
    if (id === null || !view || view.assigneeId === null || this.acting) return;
    this.acting = true;
    this.render();
    try {
      await postJson(`/api/incidents/${encodeURIComponent(id)}/actions`, {
        type,
        workerId: view.assigneeId,
        expectedVersion: view.version,
      });
      this.actionError = null;
    } catch (err) {
      this.actionError = err instanceof Error ? err.message : String(err);
    } finally {
      this.acting = false;
    }
    this.render();
  }

  private whyHtml(i: IncidentView): string {
    const offers = this.detail?.offers ?? [];
    // The offer that put the assignee on the case; else the latest offer made.
    const chosen: OfferView | undefined =
      offers.filter((o) => o.workerId === i.assigneeId).sort((a, b) => toMs(b.offeredAt) - toMs(a.offeredAt))[0] ??
      [...offers].sort((a, b) => toMs(b.offeredAt) - toMs(a.offeredAt))[0];
    if (!chosen) return '';
    const bars = PARTS.map((p) => {
      const v = chosen.parts[p];
      if (v === undefined) return '';
      const pct = Math.max(0, Math.min(1, v)) * 100;
      return `<li data-part="${p}"><span>${escapeHtml(tk('part', p))}</span><i data-w="${pct.toFixed(0)}"></i><b>${v.toFixed(2)}</b></li>`;
    }).join('');
    const dist = chosen.distanceM === null ? '' : ` · ${Math.round(chosen.distanceM)} m`;
    return `<section class="why"><h3>${escapeHtml(t('whyThisWorker'))}: ${escapeHtml(this.deps.workerName(chosen.workerId))}</h3>
      <div class="why-total">${escapeHtml(t('total'))} <b>${chosen.total.toFixed(2)}</b> · ${escapeHtml(t('candidateRank'))} ${chosen.rank + 1}${dist} · ${escapeHtml(tk('via', chosen.via))}</div>
      <ul class="parts">${bars}</ul></section>`;
  }

  private auditHtml(): string {
    if (this.detailError && !this.detail) return `<p class="muted">${escapeHtml(t('loadFailed'))}</p>`;
    if (!this.detail) return `<p class="muted">${escapeHtml(t('loading'))}</p>`;
    const rows = [...this.detail.audit]
      .sort((a, b) => b.version - a.version)
      .map(
        (a) => `<li><time>${escapeHtml(formatClock(toMs(a.at)))}</time> <b>${escapeHtml(tk('incAction', a.action))}</b>
          ${a.fromState ? `${escapeHtml(tk('incState', a.fromState))} → ` : ''}${escapeHtml(tk('incState', a.toState))}
          <small>${escapeHtml(a.actorKind)}:${escapeHtml(a.actorKind === 'worker' ? this.deps.workerName(a.actorId) : a.actorId)}${this.onBehalfOf(a)}${a.reason ? ` · ${escapeHtml(a.reason)}` : ''}</small></li>`,
      )
      .join('');
    return `<section class="audit"><h3>${escapeHtml(t('auditLog'))}</h3><ol>${rows}</ol></section>`;
  }

  /** " 代 张网格" when an operator recorded the step for the worker. */
  private onBehalfOf(a: AuditEntry): string {
    const w = a.detail?.onBehalfOf;
    return typeof w === 'string' ? ` ${escapeHtml(t('onBehalfOf'))} ${escapeHtml(this.deps.workerName(w))}` : '';
  }
}
