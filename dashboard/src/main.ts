// Entry point of the command screen: wires the map, the layers, the feed, the header and the
// live link. Each piece owns one job; this file only connects them.
import * as L from 'leaflet';
import type { AlertView, LiveSnapshot, PositionUpdate } from '../../protocol/socket-events.js';
import { AlertFeed } from './alert-feed.js';
import { AlertFlash } from './alert-flash.js';
import { fetchConfig, fetchRegions } from './api-client.js';
import { installDebugHook } from './debug-hook.js';
import { FrameMeter } from './frame-stats.js';
import { HeaderBar } from './header-bar.js';
import { onLangChange, t } from './i18n.js';
import { LiveClient } from './live-client.js';
import { attachRegionLabels, drawRegions } from './region-layer.js';
import { WorkerLayer } from './worker-layer.js';

// A fallback view (Zhuzhou, the seeds' city) until the regions arrive and we fit to them.
const FALLBACK_CENTER: L.LatLngExpression = [27.83, 113.15];

async function start(): Promise<void> {
  const header = new HeaderBar();
  const map = L.map('map', { zoomControl: true, attributionControl: true, zoomSnap: 0.25, minZoom: 3, maxZoom: 20 });
  map.attributionControl.setPrefix('Leaflet');
  map.setView(FALLBACK_CENTER, 13);

  const names = new Map<string, string>();
  const regionName = (code: string): string => names.get(code) ?? code;
  const workers = new WorkerLayer(map, regionName);
  const flashes = new AlertFlash(map);
  const feed = new AlertFeed(document.getElementById('feed-list') as HTMLElement, (a) => flashes.focus(a), regionName);
  const meter = new FrameMeter();
  let gridCount = 0;
  let snapshots = 0;

  const refreshCounts = (): void => {
    const c = workers.counts();
    header.setCounts({ online: c.online, total: c.total, onDuty: c.onDuty, alertsToday: feed.today(Date.now()) });
  };

  const live = new LiveClient({
    link: (s) => header.setLink(s),
    snapshot: (s: LiveSnapshot) => {
      snapshots++;
      workers.applySnapshot(s.workers, Date.now());
      feed.reset(s.alerts);
      refreshCounts();
    },
    positions: (b: { serverTime: number; items: PositionUpdate[] }) => {
      const unknown = workers.applyPositions(b.items, Date.now());
      if (unknown.length > 0) live.resync();
    },
    presence: (p) => {
      workers.applyPresence(p, Date.now());
      refreshCounts();
    },
    duty: (d) => {
      workers.applyDuty(d, Date.now());
      refreshCounts();
    },
    // Incidents and alarms reach the screen from dispatch; their panel comes with issue 4.
    incident: () => undefined,
    alarm: () => undefined,
    alert: (a: AlertView) => {
      if (!feed.add(a)) return;
      flashes.flash(a);
      refreshCounts();
    },
  });

  // The glide loop. The second rAF, queued after Leaflet's own redraw request, closes the
  // measurement so "work" covers our moves plus Leaflet repainting the dot canvas.
  let frameStart = 0;
  const frame = (): void => {
    frameStart = performance.now();
    requestAnimationFrame(frame);
    const moved = workers.tick(Date.now());
    const tickMs = performance.now() - frameStart;
    requestAnimationFrame((next) => meter.record(next, performance.now() - frameStart, tickMs, moved));
  };
  requestAnimationFrame(frame);
  document.addEventListener('visibilitychange', () => meter.pause());
  // "Today" rolls over at Shanghai midnight even when no alert arrives.
  setInterval(refreshCounts, 30_000);

  onLangChange(() => {
    header.relabel();
    feed.renderAll();
  });

  installDebugHook({
    workerCount: () => workers.dotCount(),
    onlineCount: () => workers.counts().online,
    markerPosition: (id) => workers.drawnPosition(id),
    workerIds: () => workers.workerIds(),
    trailSize: (id) => workers.trailSize(id),
    gridCount: () => gridCount,
    alertCount: () => feed.shown(),
    snapshotCount: () => snapshots,
    connected: () => live.connected(),
    frameStats: () => meter.stats(),
  });

  const [config, regions] = await Promise.all([
    fetchConfig(),
    fetchRegions().catch((err: unknown) => {
      console.error('GET /api/regions failed', err);
      return null;
    }),
  ]);
  if (config.tileUrl !== null) {
    L.tileLayer(config.tileUrl, { maxZoom: 20, attribution: config.tileAttribution ?? '' }).addTo(map);
    document.body.classList.add('with-tiles');
  }
  if (regions === null) {
    showBanner(t('regionsFailed'));
    return;
  }
  if (regions.dropped > 0) console.warn(`/api/regions: skipped ${regions.dropped} features that are not region polygons`);
  for (const f of regions.features) names.set(f.properties.code, f.properties.name);
  feed.renderAll();
  const view = drawRegions(map, regions.features);
  gridCount = view.gridCount;
  if (view.bounds) map.fitBounds(view.bounds, { padding: [24, 24] });
  attachRegionLabels(map, view);
}

function showBanner(text: string): void {
  const el = document.getElementById('banner');
  if (!el) return;
  el.textContent = text;
  el.hidden = false;
}

start().catch((err: unknown) => {
  console.error(err);
  showBanner(err instanceof Error ? err.message : String(err));
});
