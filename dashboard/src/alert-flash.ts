// A pulsing ring where an alert happened, so the eye finds it on a big screen before reading the
// feed. DOM markers with a CSS animation: alerts are rare next to positions, so DOM is fine here.
import * as L from 'leaflet';
import type { AlertView } from '../../protocol/socket-events.js';
import { escapeHtml } from './html.js';
import { alertTypeLabel } from './i18n.js';

const FLASH_MS = 10_000;
/** A warning triangle inside a ring, plus a pulse: never mistaken for a worker's round dot. */
const ALERT_ICON_HTML =
  '<span class="pulse"></span><span class="ring"></span>' +
  '<svg class="core" viewBox="0 0 20 18" aria-hidden="true"><path class="tri" d="M10 1.5 19 16.5H1z"/>' +
  '<path class="bang" d="M10 6.5v5M10 13.2v1.3"/></svg>';
/** A flood of alerts must not bury the map in rings; the oldest ring goes first. */
const MAX_FLASHES = 25;

export class AlertFlash {
  private readonly live: Array<{ marker: L.Marker; timer: ReturnType<typeof setTimeout> }> = [];

  constructor(private readonly map: L.Map) {
    map.createPane('alerts').style.zIndex = '640';
  }

  flash(a: AlertView): void {
    if (a.lat === null || a.lon === null) return;
    const severe = a.severity === 'critical' || a.severity === 'high' || a.type === 'camera.fire' || a.type === 'door.forced';
    const icon = L.divIcon({
      className: `alert-flash${severe ? ' severe' : ''}`,
      html: ALERT_ICON_HTML,
      iconSize: [28, 28],
    });
    const marker = L.marker([a.lat, a.lon], { icon, pane: 'alerts', keyboard: false, title: '' })
      .bindTooltip(escapeHtml(alertTypeLabel(a.type)), { direction: 'top', offset: [0, -12] })
      .addTo(this.map);
    const entry = { marker, timer: setTimeout(() => this.drop(entry), FLASH_MS) };
    this.live.push(entry);
    while (this.live.length > MAX_FLASHES) {
      const oldest = this.live[0];
      if (oldest) this.drop(oldest);
    }
  }

  /** Pans to an alert picked in the feed and flashes it again. */
  focus(a: AlertView): void {
    if (a.lat === null || a.lon === null) return;
    this.map.flyTo([a.lat, a.lon], Math.max(this.map.getZoom(), 16), { duration: 0.6 });
    this.flash(a);
  }

  private drop(entry: { marker: L.Marker; timer: ReturnType<typeof setTimeout> }): void {
    clearTimeout(entry.timer);
    entry.marker.remove();
    const i = this.live.indexOf(entry);
    if (i >= 0) this.live.splice(i, 1);
  }
}
