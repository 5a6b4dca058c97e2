// The Devices page (设备管理, issue 15 §1) for admins: the registry in a full-screen panel over the
// map, filtered by kind, protocol, online and grid, with add (the secret shown once), rotate and
// disable/enable in the row (each asked twice), and the last time each device was seen. The hub
// answers only the caller's area and refuses non-admin writes; the page shows its button to
// admins only (and to everyone when the hub runs without login).
import { escapeHtml, setHtml } from './html.js';
import { applyStaticText, formatClock, formatDuration, shanghaiDay, t, tk } from './i18n.js';
import { fetchDevices, patchDevice, rotateSecret, type DeviceFilter, type DeviceSecretReply, type DeviceView } from './devices-api.js';
import { DeviceForm } from './device-form.js';

export interface DevicesPageDeps {
  /** Grid codes to filter by and to hang a fixed device in, with their names. */
  grids: () => { code: string; name: string }[];
  /** Workers a handset can be issued to (the live layer's). */
  workers: () => { id: string; name: string }[];
  regionName: (code: string) => string;
}

const KINDS = ['handset', 'door', 'camera', 'sensor'] as const;
const PROTOCOLS = ['native', 'owntracks', 'jt808'] as const;
const REFRESH_MS = 10_000;

export class DevicesPage {
  private readonly root: HTMLElement;
  private readonly button: HTMLButtonElement;
  private readonly filters: HTMLFormElement;
  private readonly body: HTMLElement;
  private readonly count: HTMLElement;
  private readonly form: DeviceForm;
  private items: DeviceView[] = [];
  private total = 0;
  private error: string | null = null;
  /** A row action waiting for its second click. */
  private pending: { id: string; action: 'rotate' | 'disable' } | null = null;
  private timer: number | null = null;
  private loading = 0;

  constructor(private readonly deps: DevicesPageDeps) {
    this.button = document.createElement('button');
    this.button.type = 'button';
    this.button.id = 'devices-open';
    this.button.dataset.i18n = 'devicesNav';
    this.button.className = 'nav-button';
    const status = document.querySelector('.topbar .status');
    status?.insertBefore(this.button, status.firstChild);

    this.root = document.createElement('section');
    this.root.id = 'devices-page';
    this.root.className = 'devices-page';
    this.root.hidden = true;
    this.root.setAttribute('role', 'dialog');
    this.root.innerHTML = `
      <header class="devices-head">
        <h2 data-i18n="devicesTitle"></h2><span class="devices-count"></span>
        <button type="button" data-action="devices-add" data-i18n="devicesAdd"></button>
        <button type="button" data-action="devices-close" data-i18n="close"></button>
      </header>
      <form class="devices-filters">
        <select name="kind"></select><select name="protocol"></select><select name="online"></select><select name="grid"></select>
        <input name="q" type="search" autocomplete="off">
      </form>
      <div class="devices-table-wrap"><table class="devices-table">
        <thead><tr><th data-i18n="colDevice"></th><th data-i18n="colKind"></th><th data-i18n="colProtocol"></th><th data-i18n="colBound"></th>
          <th data-i18n="colOnline"></th><th data-i18n="colLastSeen"></th><th data-i18n="colActions"></th></tr></thead>
        <tbody></tbody>
      </table></div>`;
    document.body.appendChild(this.root);
    this.filters = this.root.querySelector('.devices-filters') as HTMLFormElement;
    this.body = this.root.querySelector('tbody') as HTMLElement;
    this.count = this.root.querySelector('.devices-count') as HTMLElement;
    this.form = new DeviceForm(this.root, {
      grids: deps.grids,
      workers: deps.workers,
      created: () => void this.load(),
    });

    this.button.addEventListener('click', () => this.open());
    this.root.addEventListener('click', (e) => this.onClick(e));
    this.filters.addEventListener('change', () => void this.load());
    this.filters.addEventListener('input', (e) => {
      if ((e.target as HTMLElement).getAttribute('name') === 'q') void this.load();
    });
    this.filters.addEventListener('submit', (e) => e.preventDefault());
    this.render();
  }

  open(): void {
    this.root.hidden = false;
    this.render();
    void this.load();
    this.timer ??= window.setInterval(() => void this.load(), REFRESH_MS);
  }

  close(): void {
    this.root.hidden = true;
    this.form.hide();
    if (this.timer !== null) window.clearInterval(this.timer);
    this.timer = null;
  }

  private filter(): DeviceFilter {
    const v = (name: string) => (this.filters.elements.namedItem(name) as HTMLInputElement | HTMLSelectElement).value.trim();
    const online = v('online');
    return {
      kind: v('kind'),
      protocol: v('protocol'),
      online: online === 'true' || online === 'false' ? online : undefined,
      grid: v('grid'),
      q: v('q'),
    };
  }

  /** Reads the list for the current filters; an older answer arriving late is dropped. */
  async load(): Promise<void> {
    const mine = ++this.loading;
    try {
      const reply = await fetchDevices(this.filter());
      if (mine !== this.loading) return;
      this.items = reply.items;
      this.total = reply.total;
      this.error = null;
    } catch (err) {
      if (mine !== this.loading) return;
      this.error = err instanceof Error ? err.message : String(err);
    }
    this.renderRows();
    this.root.dataset.loaded = String(mine);
  }

  private onClick(e: MouseEvent): void {
    const el = (e.target as HTMLElement).closest<HTMLElement>('[data-action]');
    if (!el) return;
    const action = el.dataset.action;
    const id = el.closest<HTMLElement>('[data-device]')?.dataset.device ?? '';
    if (action === 'devices-close') this.close();
    else if (action === 'devices-add') this.form.showAdd();
    else if (action === 'rotate' || action === 'disable') {
      if (this.pending?.id === id && this.pending.action === action) {
        this.pending = null;
        void this.act(id, action);
      } else {
        this.pending = { id, action };
        this.renderRows();
      }
    } else if (action === 'enable') void this.act(id, 'enable');
  }

  private async act(id: string, action: 'rotate' | 'disable' | 'enable'): Promise<void> {
    try {
      if (action === 'rotate') {
        const reply: DeviceSecretReply = await rotateSecret(id);
        this.form.showSecret(reply);
      } else {
        await patchDevice(id, { enabled: action === 'enable' });
      }
      this.error = null;
    } catch (err) {
      this.error = err instanceof Error ? err.message : String(err);
    }
    await this.load();
  }

  /** Labels and the filters' options, in the current language. */
  render(): void {
    applyStaticText(this.root);
    this.button.textContent = t('devicesNav');
    (this.filters.elements.namedItem('q') as HTMLInputElement).placeholder = t('devicesSearch');
    const fill = (name: string, options: [string, string][]) => {
      const sel = this.filters.elements.namedItem(name) as HTMLSelectElement;
      const keep = sel.value;
      setHtml(sel, options.map(([v, label]) => `<option value="${escapeHtml(v)}">${escapeHtml(label)}</option>`).join(''));
      sel.value = options.some(([v]) => v === keep) ? keep : '';
    };
    fill('kind', [['', t('devicesAllKinds')], ...KINDS.map((k): [string, string] => [k, tk('kind', k)])]);
    fill('protocol', [['', t('devicesAllProtocols')], ...PROTOCOLS.map((p): [string, string] => [p, tk('protocol', p)])]);
    fill('online', [
      ['', t('devicesAnyState')],
      ['true', t('devicesOnlineOnly')],
      ['false', t('devicesOfflineOnly')],
    ]);
    fill('grid', [['', t('filterAllGrids')], ...this.deps.grids().map((g): [string, string] => [g.code, g.name])]);
    this.form.render();
    this.renderRows();
  }

  private renderRows(): void {
    setHtml(this.count, `${escapeHtml(t('devicesTotal'))} ${this.total}`);
    const now = Date.now();
    const rows = this.items.map((d) => {
      const bound = d.workerId
        ? `${escapeHtml(d.workerName ?? d.workerId)}`
        : d.gridCode
          ? escapeHtml(this.deps.regionName(d.gridCode))
          : '—';
      const seen =
        d.lastSeen === null
          ? t('deviceNever')
          : `${shanghaiDay(Date.parse(d.lastSeen))} ${formatClock(Date.parse(d.lastSeen))} · ${formatDuration(now - Date.parse(d.lastSeen))}${t('ago')}`;
      const state = !d.enabled ? 'disabled' : d.online ? 'online' : 'offline';
      const stateText = !d.enabled ? t('deviceDisabled') : d.online ? t('deviceOnline') : t('deviceOffline');
      const asking = (a: string) => this.pending?.id === d.id && this.pending.action === a;
      const actions = [
        `<button type="button" data-action="rotate" class="${asking('rotate') ? 'confirm' : ''}">${escapeHtml(t(asking('rotate') ? 'deviceRotateConfirm' : 'deviceRotate'))}</button>`,
        d.enabled
          ? `<button type="button" data-action="disable" class="${asking('disable') ? 'confirm' : ''}">${escapeHtml(t(asking('disable') ? 'deviceDisableConfirm' : 'deviceDisable'))}</button>`
          : `<button type="button" data-action="enable">${escapeHtml(t('deviceEnable'))}</button>`,
      ].join('');
      return `<tr data-device="${escapeHtml(d.id)}" data-state="${state}" class="${d.enabled ? '' : 'disabled'}">
        <td><div class="device-id">${escapeHtml(d.id)}</div><div class="device-name">${escapeHtml(d.name ?? '')}</div></td>
        <td>${escapeHtml(tk('kind', d.kind))}</td><td>${escapeHtml(tk('protocol', d.protocol))}${d.protocolId ? `<div class="device-name">${escapeHtml(d.protocolId)}</div>` : ''}</td>
        <td>${bound}</td><td><i class="state-dot ${state}"></i>${escapeHtml(stateText)}</td><td class="last-seen">${escapeHtml(seen)}</td><td class="actions">${actions}</td></tr>`;
    });
    const empty = `<tr class="empty"><td colspan="7">${escapeHtml(this.error ?? t('devicesEmpty'))}</td></tr>`;
    setHtml(this.body, rows.length ? rows.join('') : empty);
    this.root.classList.toggle('failed', this.error !== null);
    if (this.error && rows.length) this.form.flash(this.error);
  }
}
