// KPI tiles for the screen's scope (issue 4, item 5), from GET /api/kpis/tiles?scope=<code>, every
// 10 s. The route belongs to another part of the hub: while it is missing (404) or failing the
// tiles show "—" and the screen carries on, asking again once a minute.
import { fetchKpis, HttpError, type KpiTiles } from './api-client.js';
import { escapeHtml } from './html.js';
import { formatDuration, t, type TextKey } from './i18n.js';

const POLL_MS = 10_000;
const RETRY_MS = 60_000;

const TILES: Array<{ key: keyof KpiTiles; label: TextKey; fmt: 'n' | 'pct' | 'ms' }> = [
  { key: 'incidentsToday', label: 'kpiIncidentsToday', fmt: 'n' },
  { key: 'open', label: 'kpiOpen', fmt: 'n' },
  { key: 'closed', label: 'kpiClosed', fmt: 'n' },
  { key: 'closureRate', label: 'kpiClosureRate', fmt: 'pct' },
  { key: 'onTimeRate', label: 'kpiOnTimeRate', fmt: 'pct' },
  { key: 'medianAcceptMs', label: 'kpiMedianAccept', fmt: 'ms' },
  { key: 'medianResolveMs', label: 'kpiMedianResolve', fmt: 'ms' },
  { key: 'workersOnline', label: 'kpiWorkersOnline', fmt: 'n' },
  { key: 'workersOnPatrol', label: 'kpiWorkersOnPatrol', fmt: 'n' },
];

function format(v: unknown, fmt: 'n' | 'pct' | 'ms'): string {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '—';
  if (fmt === 'pct') return `${(v <= 1 ? v * 100 : v).toFixed(1)}%`;
  if (fmt === 'ms') return formatDuration(v);
  return String(Math.round(v));
}

export class KpiTilesView {
  private data: KpiTiles | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private polls = 0;
  private status: 'ok' | 'missing' | 'failing' | 'waiting' = 'waiting';

  constructor(
    private readonly el: HTMLElement,
    private readonly scope: string | null,
  ) {
    this.render();
  }

  start(): void {
    void this.poll();
  }

  state(): { status: string; polls: number; data: KpiTiles | null } {
    return { status: this.status, polls: this.polls, data: this.data };
  }

  private async poll(): Promise<void> {
    this.polls++;
    let next = POLL_MS;
    try {
      this.data = await fetchKpis(this.scope);
      this.status = 'ok';
    } catch (err) {
      this.status = err instanceof HttpError && err.status === 404 ? 'missing' : 'failing';
      next = RETRY_MS;
    }
    this.render();
    this.timer = setTimeout(() => void this.poll(), next);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
  }

  render(): void {
    const d = this.data;
    this.el.dataset.status = this.status;
    this.el.title = this.status === 'ok' || this.status === 'waiting' ? '' : t('kpiUnavailable');
    this.el.innerHTML = TILES.map(
      (tile) => `<div class="kpi" data-kpi="${tile.key}"><div class="kpi-label">${escapeHtml(t(tile.label))}</div>
        <div class="kpi-value">${escapeHtml(d && this.status === 'ok' ? format(d[tile.key], tile.fmt) : '—')}</div></div>`,
    ).join('');
  }
}
