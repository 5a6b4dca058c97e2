// The Devices page's add form and its secret panel. The secret exists on the page only while the
// panel is open: it is not stored, logged or put in the URL, and closing the panel drops it. The
// panel's extension slot (devices-hooks.ts) is where the OwnTracks QR code goes.
import type { DeviceCreate } from '../../protocol/device-api.js';
import { createDevice, type DeviceSecretReply } from './devices-api.js';
import { runSecretPanelExtensions, secretHookFor } from './devices-hooks.js';
import { escapeHtml, setHtml } from './html.js';
import { applyStaticText, lang, t, tk } from './i18n.js';

export interface DeviceFormDeps {
  grids: () => { code: string; name: string }[];
  workers: () => { id: string; name: string }[];
  created: () => void;
}

export class DeviceForm {
  private readonly form: HTMLFormElement;
  private readonly panel: HTMLElement;
  private readonly error: HTMLElement;
  private flashTimer = 0;

  constructor(
    root: HTMLElement,
    private readonly deps: DeviceFormDeps,
  ) {
    this.form = document.createElement('form');
    this.form.className = 'device-add';
    this.form.hidden = true;
    this.form.autocomplete = 'off';
    this.form.innerHTML = `
      <h3 data-i18n="devicesAdd"></h3>
      <label><span data-i18n="colKind"></span><select name="kind"></select></label>
      <label><span data-i18n="fieldDeviceId"></span><input name="id" maxlength="64" pattern="[A-Za-z0-9][A-Za-z0-9_.\\-]{0,63}"></label>
      <label><span data-i18n="fieldName"></span><input name="name" maxlength="100"></label>
      <label><span data-i18n="colProtocol"></span><select name="protocol"></select></label>
      <label><span data-i18n="fieldProtocolId"></span><input name="protocolId" maxlength="128"></label>
      <label><span data-i18n="fieldWorker"></span><input name="workerId" list="device-workers" maxlength="128"></label>
      <datalist id="device-workers"></datalist>
      <label><span data-i18n="grid"></span><select name="gridCode"></select></label>
      <label><span data-i18n="fieldLatLon"></span><span class="pair"><input name="lat" inputmode="decimal"><input name="lon" inputmode="decimal"></span></label>
      <label><span data-i18n="fieldModel"></span><input name="model" maxlength="100"></label>
      <p class="device-add-error" role="alert"></p>
      <div class="buttons"><button type="submit" data-i18n="save"></button><button type="button" data-action="add-cancel" data-i18n="cancel"></button></div>`;
    this.panel = document.createElement('div');
    this.panel.className = 'device-secret';
    this.panel.hidden = true;
    this.panel.setAttribute('role', 'alertdialog');
    root.append(this.form, this.panel);
    this.error = this.form.querySelector('.device-add-error') as HTMLElement;
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.submit();
    });
    this.form.addEventListener('click', (e) => {
      if ((e.target as HTMLElement).closest('[data-action="add-cancel"]')) this.hide();
    });
    this.panel.addEventListener('click', (e) => {
      const action = (e.target as HTMLElement).closest<HTMLElement>('[data-action]')?.dataset.action;
      if (action === 'secret-done') this.closeSecret();
      if (action === 'secret-copy')
        void navigator.clipboard?.writeText(this.panel.querySelector('.secret-value')?.textContent ?? '').catch(() => undefined);
    });
  }

  showAdd(): void {
    this.render();
    this.form.reset();
    this.error.textContent = '';
    this.form.hidden = false;
    (this.form.elements.namedItem('kind') as HTMLSelectElement).focus();
  }

  hide(): void {
    this.form.hidden = true;
    this.closeSecret();
  }

  /** A short-lived message in the form's error line (a row action that failed). */
  flash(message: string): void {
    this.error.textContent = message;
    window.clearTimeout(this.flashTimer);
    this.flashTimer = window.setTimeout(() => (this.error.textContent = ''), 8000);
  }

  render(): void {
    applyStaticText(this.form);
    const fill = (name: string, options: [string, string][]) => {
      const sel = this.form.elements.namedItem(name) as HTMLSelectElement;
      const keep = sel.value;
      setHtml(sel, options.map(([v, label]) => `<option value="${escapeHtml(v)}">${escapeHtml(label)}</option>`).join(''));
      if (options.some(([v]) => v === keep)) sel.value = keep;
    };
    fill(
      'kind',
      ['handset', 'door', 'camera', 'sensor'].map((k) => [k, tk('kind', k)]),
    );
    fill(
      'protocol',
      ['native', 'owntracks', 'jt808'].map((p) => [p, tk('protocol', p)]),
    );
    fill('gridCode', [['', '—'], ...this.deps.grids().map((g): [string, string] => [g.code, g.name])]);
    setHtml(
      this.form.querySelector('#device-workers') as HTMLElement,
      this.deps
        .workers()
        .map((w) => `<option value="${escapeHtml(w.id)}">${escapeHtml(w.name)}</option>`)
        .join(''),
    );
  }

  private async submit(): Promise<void> {
    const v = (name: string) => (this.form.elements.namedItem(name) as HTMLInputElement | HTMLSelectElement).value.trim();
    const num = (name: string) => (v(name) === '' ? undefined : Number(v(name)));
    const input: Record<string, unknown> = {
      id: v('id') || undefined,
      kind: v('kind'),
      name: v('name') || undefined,
      protocol: v('protocol'),
      protocolId: v('protocolId') || undefined,
      workerId: v('workerId') || undefined,
      gridCode: v('gridCode') || undefined,
      lat: num('lat'),
      lon: num('lon'),
      model: v('model') || undefined,
    };
    const body = Object.fromEntries(Object.entries(input).filter(([, x]) => x !== undefined)) as DeviceCreate;
    this.error.textContent = '';
    try {
      const reply = await createDevice(body);
      this.form.hidden = true;
      this.showSecret(reply);
      this.deps.created();
    } catch (err) {
      this.error.textContent = err instanceof Error ? err.message : String(err);
    }
  }

  /** The secret, once. */
  showSecret(reply: DeviceSecretReply): void {
    const hook = secretHookFor(reply.device);
    this.panel.innerHTML = `
      <h3>${escapeHtml(t('deviceSecretTitle'))}</h3>
      <dl><dt>${escapeHtml(t('colDevice'))}</dt><dd class="secret-device">${escapeHtml(reply.device.id)}</dd>
        <dt>${escapeHtml(t('password'))}</dt><dd><code class="secret-value"></code>
        <button type="button" data-action="secret-copy">${escapeHtml(t('deviceCopy'))}</button></dd></dl>
      <p class="hint">${escapeHtml(t('deviceSecretHint'))}</p>
      ${hook ? `<div class="secret-extension" data-hook="${hook}" data-device="${escapeHtml(reply.device.id)}" hidden></div>` : ''}
      <div class="buttons"><button type="button" data-action="secret-done">${escapeHtml(t('deviceSecretDone'))}</button></div>`;
    (this.panel.querySelector('.secret-value') as HTMLElement).textContent = reply.secret;
    this.panel.hidden = false;
    const mount = this.panel.querySelector<HTMLElement>('.secret-extension');
    if (mount) {
      runSecretPanelExtensions({ device: reply.device, secret: reply.secret, mount, lang: lang() });
      mount.hidden = mount.childElementCount === 0;
    }
  }

  private closeSecret(): void {
    this.panel.hidden = true;
    this.panel.innerHTML = ''; // the secret leaves the page with the panel
  }
}
