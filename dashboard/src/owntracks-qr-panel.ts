// The OwnTracks QR code on the Devices page (browser code, bundled into the command screen). The page
// shows a device's secret once, after "add" or "rotate", in a panel with an extension slot
// (dashboard/src/devices-hooks.ts); registered there with `addSecretPanelExtension(ownTracksQrPanel)`,
// this fills the slot of an OwnTracks device with a QR code of the app's configuration link.
//
// The link is built here, in the page, from the secret the page already holds: the secret is never
// sent anywhere. The hub only says where a phone reaches it (GET /api/owntracks/setup). The host
// stays editable: an admin who opened the screen as 127.0.0.1 must give the address phones use.
import QRCode from 'qrcode';
import {
  QR_OPTIONS,
  ownTracksConfigLink,
  ownTracksConfiguration,
  type OwnTracksSetup,
  type OwnTracksSetupDefaults,
} from '../../protocol/owntracks-config.js';

const qrSvg = (text: string): Promise<string> => QRCode.toString(text, { ...QR_OPTIONS, type: 'svg' });

/** The slice of the panel's context this needs (structurally dashboard/src/devices-hooks.ts SecretPanelContext). */
export interface QrPanelContext {
  device: { id: string; protocol: string };
  secret: string;
  mount: HTMLElement;
  lang: 'zh' | 'en';
}

const TEXT = {
  zh: {
    title: 'OwnTracks 扫码配置',
    mqtt: 'MQTT（推荐）',
    http: 'HTTP',
    host: '手机可访问的服务器地址',
    local: '此地址仅本机可用，请填写手机能访问的地址',
    noPort: '服务器未告知 MQTT 端口，请改用 HTTP 或填写端口',
    port: '端口',
    hint: '用手机相机扫码，在 OwnTracks 中确认导入（Android 2.3 及以上、iOS）。二维码含设备密钥，勿外传。',
    copy: '复制配置链接',
    failed: '无法获取服务器地址',
  },
  en: {
    title: 'OwnTracks one-scan setup',
    mqtt: 'MQTT (recommended)',
    http: 'HTTP',
    host: 'Server address as the phone reaches it',
    local: 'This address works only on this computer: give the one phones reach',
    noPort: 'The hub did not say its MQTT port: use HTTP or give the port',
    port: 'Port',
    hint: 'Scan with the phone camera and confirm the import in OwnTracks (Android 2.3+, iOS). The code holds the device secret: keep it to this phone.',
    copy: 'Copy configuration link',
    failed: 'Cannot read the server address',
  },
} as const;

export async function fetchSetupDefaults(): Promise<OwnTracksSetupDefaults> {
  const res = await fetch('/api/owntracks/setup', { headers: { accept: 'application/json' }, credentials: 'same-origin' });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return (await res.json()) as OwnTracksSetupDefaults;
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<HTMLElementTagNameMap[K]> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const e = Object.assign(document.createElement(tag), props);
  e.append(...children);
  return e;
}

const isLocal = (host: string) => /^(localhost|127\.|\[?::1\]?$|0\.0\.0\.0)/.test(host);

/** The secret panel extension. Adds its element at once (the panel shows the slot only when filled). */
export function ownTracksQrPanel(ctx: QrPanelContext, readDefaults: () => Promise<OwnTracksSetupDefaults> = fetchSetupDefaults): void {
  if (ctx.device.protocol !== 'owntracks') return;
  const tx = TEXT[ctx.lang];
  const root = el('section', { className: 'owntracks-qr' }, el('h4', { textContent: tx.title }));
  ctx.mount.append(root);
  const status = el('p', { className: 'hint' });
  root.append(status);
  readDefaults().then(
    (d) => render(ctx, root, status, d),
    () => (status.textContent = tx.failed),
  );
}

function render(ctx: QrPanelContext, root: HTMLElement, status: HTMLElement, d: OwnTracksSetupDefaults): void {
  const tx = TEXT[ctx.lang];
  const modes = (['mqtt', 'http'] as const).map((m) => {
    const input = el('input', {
      type: 'radio',
      name: `owntracks-mode-${ctx.device.id}`,
      value: m,
      checked: m === (d.mqtt.port ? 'mqtt' : 'http'),
    });
    return { m, input, label: el('label', {}, input, ` ${tx[m]}`) };
  });
  const host = el('input', { type: 'text', value: d.mqtt.host, className: 'owntracks-host' });
  const port = el('input', {
    type: 'number',
    value: d.mqtt.port ? String(d.mqtt.port) : '',
    className: 'owntracks-port',
    min: '1',
    max: '65535',
  });
  const img = el('img', { className: 'owntracks-qr-image', alt: tx.title, width: 240, height: 240 });
  const copy = el('button', { type: 'button', textContent: tx.copy });
  root.append(
    el('div', {}, ...modes.map((x) => x.label)),
    el('label', {}, `${tx.host} `, host),
    el('label', {}, `${tx.port} `, port),
    img,
    copy,
  );
  root.append(el('p', { className: 'hint', textContent: tx.hint }));
  root.append(status);
  let link = '';
  let drawn = 0;
  const draw = async (): Promise<void> => {
    const mode = modes.find((x) => x.input.checked)?.m ?? 'mqtt';
    const h = host.value.trim();
    const setup: OwnTracksSetup = {
      deviceId: ctx.device.id,
      secret: ctx.secret,
      mode,
      host: h,
      port: Number(port.value) || undefined,
      url: urlFor(d.http.url, h),
    };
    status.textContent = isLocal(h) ? tx.local : mode === 'mqtt' && !setup.port ? tx.noPort : '';
    port.disabled = mode === 'http';
    try {
      link = ownTracksConfigLink(ownTracksConfiguration(setup));
    } catch (err) {
      status.textContent = (err as Error).message;
      img.removeAttribute('src');
      link = '';
      return;
    }
    const mine = ++drawn;
    const svg = await qrSvg(link);
    if (mine !== drawn) return; // a newer edit drew already
    img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
    img.dataset.link = link;
  };
  for (const x of modes) x.input.addEventListener('change', () => void draw());
  host.addEventListener('input', () => void draw());
  port.addEventListener('input', () => void draw());
  copy.addEventListener('click', () => void navigator.clipboard?.writeText(link));
  void draw();
}

/** The POST URL with the host the admin typed (same scheme and port as the page's). */
function urlFor(base: string, host: string): string {
  try {
    const u = new URL(base);
    if (host) u.hostname = host;
    return u.toString();
  } catch {
    return base;
  }
}
