// Incidents on the screen (issue 4, item 4): the live set (snapshot + `incident` events, newest
// version wins), a marker per incident by category and state, and the filtered list. Overdue is
// what the hub says (`overdue`) or what the clock says (a deadline of the current stage passed),
// so a screen turns a case red on time even between pushes.
import * as L from 'leaflet';
import type { IncidentView } from '../../protocol/socket-events.js';
import { escapeHtml } from './html.js';
import { formatClock, formatDuration, lang, t, tk } from './i18n.js';
import { nextDeadline, overdueStages } from './incident-sla.js';

const ACTIVE_TASK_STATES: ReadonlySet<string> = new Set(['accepted', 'on_site']);
export const FILTER_STATES = [
  'reported',
  'dispatched',
  'accepted',
  'on_site',
  'escalated',
  'reopened',
  'resolved',
  'verified',
  'closed',
] as const;

export interface IncidentFilter {
  state: string;
  category: string;
  grid: string;
  overdue: boolean;
}

export interface IncidentBoardDeps {
  categoryName(code: string): string;
  regionName(code: string): string;
  workerName(id: string): string;
  open(id: string): void;
  /** Called when the set of workers on a task may have changed. */
  tasksChanged(): void;
}

export class IncidentBoard {
  private readonly items = new Map<string, IncidentView>();
  private readonly markers = new Map<string, { marker: L.Marker; cls: string }>();
  private filter: IncidentFilter = { state: '', category: '', grid: '', overdue: false };
  private renderQueued = false;
  private lastHtml = '';

  constructor(
    private readonly map: L.Map,
    private readonly list: HTMLElement,
    private readonly filters: HTMLElement,
    private readonly deps: IncidentBoardDeps,
  ) {
    map.createPane('incidents').style.zIndex = '620';
    filters.addEventListener('change', () => {
      const val = (name: string): string => filters.querySelector<HTMLSelectElement>(`[name="${name}"]`)?.value ?? '';
      this.filter = {
        state: val('state'),
        category: val('category'),
        grid: val('grid'),
        overdue: filters.querySelector<HTMLInputElement>('[name="overdue"]')?.checked === true,
      };
      this.render();
    });
    list.addEventListener('click', (e) => {
      const id = (e.target as HTMLElement).closest<HTMLElement>('[data-id]')?.dataset.id;
      if (id !== undefined) deps.open(id);
    });
    // Countdowns and "overdue by the clock" without waiting for a push.
    setInterval(() => this.render(), 1000);
  }

  reset(list: IncidentView[]): void {
    this.items.clear();
    for (const i of list) this.items.set(i.id, i);
    for (const id of [...this.markers.keys()]) if (!this.items.has(id)) this.dropMarker(id);
    this.deps.tasksChanged();
    this.render();
  }

  /** Newest version wins; returns false for a stale one. */
  apply(i: IncidentView): boolean {
    const known = this.items.get(i.id);
    if (known && known.version > i.version) return false;
    this.items.set(i.id, i);
    if (known?.assigneeId !== i.assigneeId || known?.state !== i.state) this.deps.tasksChanged();
    this.render();
    return true;
  }

  get(id: string): IncidentView | undefined {
    return this.items.get(id);
  }

  all(): IncidentView[] {
    return [...this.items.values()];
  }

  /** The task a worker is on now (accepted or on site). */
  taskOf(workerId: string): IncidentView | undefined {
    for (const i of this.items.values()) if (i.assigneeId === workerId && ACTIVE_TASK_STATES.has(i.state)) return i;
    return undefined;
  }

  /** Options of the filter selects, from what is on the board. */
  fillFilterOptions(categories: Array<{ code: string }>, grids: Array<{ code: string }>): void {
    const set = (name: string, first: string, options: Array<[string, string]>): void => {
      const sel = this.filters.querySelector<HTMLSelectElement>(`[name="${name}"]`);
      if (!sel) return;
      const keep = sel.value;
      sel.innerHTML =
        `<option value="">${escapeHtml(first)}</option>` +
        options.map(([v, l]) => `<option value="${escapeHtml(v)}">${escapeHtml(l)}</option>`).join('');
      sel.value = keep;
    };
    set(
      'state',
      t('filterAllStates'),
      FILTER_STATES.map((s) => [s, tk('incState', s)]),
    );
    set(
      'category',
      t('filterAllCategories'),
      categories.map((c) => [c.code, this.deps.categoryName(c.code)]),
    );
    set(
      'grid',
      t('filterAllGrids'),
      grids.map((g) => [g.code, this.deps.regionName(g.code)]),
    );
    const label = this.filters.querySelector('[data-i18n-overdue]');
    if (label) label.textContent = t('filterOverdue');
  }

  focus(id: string): void {
    const i = this.items.get(id);
    if (i) this.map.flyTo([i.lat, i.lon], Math.max(this.map.getZoom(), 16), { duration: 0.6 });
  }

  /** Entries the list shows under the current filter (tests read the DOM the same way). */
  visible(now = Date.now()): IncidentView[] {
    const f = this.filter;
    return this.all()
      .filter(
        (i) =>
          (f.state === '' || i.state === f.state) &&
          (f.category === '' || i.category === f.category) &&
          (f.grid === '' || i.gridCode === f.grid),
      )
      .filter((i) => !f.overdue || overdueStages(i, now).length > 0)
      .sort((a, b) => overdueStages(b, now).length - overdueStages(a, now).length || b.createdAt - a.createdAt);
  }

  render(): void {
    if (this.renderQueued) return;
    this.renderQueued = true;
    requestAnimationFrame(() => {
      this.renderQueued = false;
      this.draw(Date.now());
    });
  }

  private draw(now: number): void {
    for (const i of this.items.values()) this.placeMarker(i, now);
    const shown = this.visible(now);
    const html = shown.length === 0 ? `<li class="feed-empty">${escapeHtml(t('incidentsEmpty'))}</li>` : this.rows(shown, now);
    // Rendered every second for the countdowns, but most seconds nothing visible changes.
    if (html !== this.lastHtml) {
      this.lastHtml = html;
      this.list.innerHTML = html;
    }
  }

  private rows(shown: IncidentView[], now: number): string {
    return shown
      .slice(0, 300)
      .map((i) => {
        const late = overdueStages(i, now);
        const next = nextDeadline(i);
        const left =
          next === null ? '' : next.at > now ? `${formatDuration(next.at - now)} ${lang() === 'zh' ? '' : t('left')}`.trim() : t('overdue');
        const who = i.assigneeId === null ? t('unassigned') : this.deps.workerName(i.assigneeId);
        return `<li class="incident st-${escapeHtml(i.state)} pr-${escapeHtml(i.priority)}${late.length > 0 ? ' overdue' : ''}" data-id="${escapeHtml(i.id)}" tabindex="0">
          <div class="alert-head"><span class="inc-glyph cat-${escapeHtml(i.category.split('.')[0] ?? '')}">${escapeHtml(glyphOf(this.deps.categoryName(i.category)))}</span>
            <span class="alert-type">${escapeHtml(i.title ?? this.deps.categoryName(i.category))}</span>
            <span class="inc-state">${escapeHtml(tk('incState', i.state))}</span><time>${escapeHtml(formatClock(i.createdAt))}</time></div>
          <div class="alert-meta">${escapeHtml(this.deps.regionName(i.gridCode))} · ${escapeHtml(who)}${i.foldCount > 1 ? ` · ×${i.foldCount}` : ''}
            <span class="sla${late.length > 0 ? ' late' : ''}">${escapeHtml(left)}</span></div></li>`;
      })
      .join('');
  }

  private placeMarker(i: IncidentView, now: number): void {
    if (i.state === 'closed' || i.state === 'cancelled') return this.dropMarker(i.id);
    const late = overdueStages(i, now).length > 0;
    const cls = `incident-marker st-${i.state} pr-${i.priority}${late ? ' overdue' : ''}`;
    const known = this.markers.get(i.id);
    if (known && known.cls === cls) {
      const at = known.marker.getLatLng();
      if (at.lat !== i.lat || at.lng !== i.lon) known.marker.setLatLng([i.lat, i.lon]);
      return;
    }
    known?.marker.remove();
    const icon = L.divIcon({
      className: cls,
      html: `<span>${escapeHtml(glyphOf(this.deps.categoryName(i.category)))}</span>`,
      iconSize: [26, 26],
    });
    const marker = L.marker([i.lat, i.lon], { icon, pane: 'incidents', keyboard: false, title: i.title ?? i.category });
    marker.on('click', () => this.deps.open(i.id));
    marker.getElement()?.setAttribute('data-id', i.id);
    marker.addTo(this.map);
    marker.getElement()?.setAttribute('data-id', i.id);
    this.markers.set(i.id, { marker, cls });
  }

  private dropMarker(id: string): void {
    this.markers.get(id)?.marker.remove();
    this.markers.delete(id);
  }

  markerCount(): number {
    return this.markers.size;
  }
}

/** One character for the marker: the first of the category's name ("排", "垃", "Fire" → "F"). */
function glyphOf(name: string): string {
  return [...name][0] ?? '?';
}
