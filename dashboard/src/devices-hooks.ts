// Extension point of the Devices page's secret panel (the one moment a device's secret is on the
// screen: after "add" and after "rotate"). Another part of the screen registers a renderer here
// instead of editing the page: the OwnTracks one-scan setup (issue 15 §2) draws, for a device with
// protocol 'owntracks', a QR code of the app's remote-configuration link into `mount`, which is the
// `[data-hook="owntracks-qr"]` element of the panel (empty and hidden until a renderer fills it).
import type { DeviceView } from '../../protocol/device-api.js';
import type { Lang } from './i18n.js';

export interface SecretPanelContext {
  device: DeviceView;
  /** The secret, in memory only while the panel is open: never stored, logged or sent anywhere. */
  secret: string;
  /** The element for this extension; shown once a renderer put something in it. */
  mount: HTMLElement;
  lang: Lang;
}

export type SecretPanelExtension = (ctx: SecretPanelContext) => void;

const extensions: SecretPanelExtension[] = [];

/** Registers a renderer for the secret panel (e.g. `addSecretPanelExtension(owntracksQr)` in main.ts). */
export function addSecretPanelExtension(ext: SecretPanelExtension): void {
  extensions.push(ext);
}

/** Hook name of the panel's extension slot for a device: one per protocol that needs one. */
export function secretHookFor(device: DeviceView): string | null {
  return device.protocol === 'owntracks' ? 'owntracks-qr' : null;
}

export function runSecretPanelExtensions(ctx: SecretPanelContext): void {
  for (const ext of extensions) {
    try {
      ext(ctx);
    } catch (err) {
      console.error('secret panel extension failed', err);
    }
  }
}
