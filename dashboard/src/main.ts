// Entry point of the command screen: signs in when the hub asks for it, then wires the map, the
// layers, the panels, the header and the live link. Each piece owns one job; this file only
// connects them, one named step each (start() reads as the order they happen in).
import * as L from 'leaflet';
import type { AlertView, LiveSnapshot, PositionUpdate } from '../../protocol/socket-events.js';
import {
  fetchCategories,
  fetchConfig,
  fetchMe,
  fetchRegions,
  logout,
  setUnauthorizedHandler,
  type RegionFeature,
  type SessionUser,
} from './api-client.js';
import { installDebugHook } from './debug-hook.js';
import { DrillDown } from './drill-down.js';
import { DevicesPage } from './devices-page.js';
import { HeaderBar } from './header-bar.js';
import { onLangChange, t } from './i18n.js';
import { LiveClient } from './live-client.js';
import { askForLogin } from './login-gate.js';
import { attachRegionLabels, drawRegions } from './region-layer.js';
import { buildScreen, el, type Screen } from './screen-parts.js';
import { addSecretPanelExtension } from './devices-hooks.js';
import { ownTracksQrPanel } from './owntracks-qr-panel.js';

// The OwnTracks QR code in the Devices page's secret panel (one scan sets up the phone).
addSecretPanelExtension(ownTracksQrPanel);

// A fallback view (Zhuzhou, the seeds' city) until the regions arrive and we fit to them.
const FALLBACK_CENTER: L.LatLngExpression = [27.83, 113.15];

/** Signs in if the hub requires it; null user = auth off (every screen sees everything). */
async function signIn(notice: string | null = null): Promise<SessionUser | null> {
  const me = await fetchMe();
  if (me.user || !me.authRequired) return me.user;
  return askForLogin(el('login'), notice);
}

/** Only the regions inside the user's scope are drawn: a community screen shows its community. */
function inScope(features: RegionFeature[], scope: string | null): RegionFeature[] {
  if (scope === null || !features.some((f) => f.properties.code === scope)) return features;
  const parent = new Map(features.map((f) => [f.properties.code, f.properties.parent]));
  const under = (code: string): boolean => {
    for (let c: string | null | undefined = code; c != null; c = parent.get(c)) if (c === scope) return true;
    return false;
  };
  return features.filter((f) => under(f.properties.code));
}

async function start(): Promise<void> {
  const header = new HeaderBar();
  const { user, sessionEnded } = await openSession(header);
  const map = createMap();
  const s = buildScreen(map, header, user);
  const gridClicked = routeMapClicks(s);
  const live = connectLive(s, sessionEnded);
  startFrameLoop(s);
  s.devices = openDevicesPage(s);
  relabelOnLanguageChange(s);
  exposeDebugHook(s, live);
  await loadRegions(s, gridClicked);
}

/** Signs in, and sends the screen back to the form when the session ends later. */
async function openSession(header: HeaderBar): Promise<{ user: SessionUser | null; sessionEnded: () => void }> {
  const user = await signIn();
  // A 401 later means the session ended (expiry, sign-out elsewhere): back to the form.
  const sessionEnded = (): void => {
    if (user !== null) window.location.reload();
  };
  setUnauthorizedHandler(sessionEnded);
  header.setUser(user, () => void logout().finally(() => window.location.reload()));
  document.body.classList.toggle('read-only', user !== null && user.role === 'viewer');
  return { user, sessionEnded };
}

function createMap(): L.Map {
  const map = L.map('map', { zoomControl: true, attributionControl: true, zoomSnap: 0.25, minZoom: 3, maxZoom: 20 });
  map.attributionControl.setPrefix('Leaflet');
  map.setView(FALLBACK_CENTER, 13);
  // The map's box changes after start (the KPI bar and panels lay out, a wall screen is resized):
  // Leaflet only paints the size it knew, so tell it (otherwise part of the grid layer stays blank).
  new ResizeObserver(() => map.invalidateSize({ pan: false })).observe(map.getContainer());
  return map;
}

/**
 * One click handler for the map: a worker's dot first (hit-tested, the dot canvas lets clicks
 * through), else the grid under the pointer drills one level down towards it. Leaflet fires a grid
 * polygon's click before the map's, for the same DOM event; returns what a grid's click calls.
 */
function routeMapClicks(s: Screen): (grid: string) => void {
  let clickedGrid: string | null = null;
  s.map.on('click', (e: L.LeafletMouseEvent) => {
    const grid = clickedGrid;
    clickedGrid = null;
    const hit = s.workers.pick(e.containerPoint);
    if (hit !== null) {
      s.detail.hide();
      s.card.show(hit);
      return;
    }
    if (grid !== null) s.drill?.towards(grid);
  });
  return (grid) => {
    clickedGrid = grid;
  };
}

/** The live link: the snapshot resets every part, each push updates the parts it concerns. */
function connectLive(s: Screen, sessionEnded: () => void): LiveClient {
  const { workers, board, feed, alarms, detail, card } = s;
  const live = new LiveClient({
    link: (state) => s.header.setLink(state),
    unauthorized: sessionEnded,
    snapshot: (snap: LiveSnapshot) => {
      s.snapshots++;
      board.reset(snap.incidents);
      s.fillFilters();
      workers.applySnapshot(snap.workers, Date.now());
      feed.reset(snap.alerts);
      alarms.reset(snap.alarms);
      s.refreshCounts();
      detail.refresh();
      card.render();
    },
    positions: (b: { serverTime: number; items: PositionUpdate[] }) => {
      const unknown = workers.applyPositions(b.items, Date.now());
      if (unknown.length > 0) live.resync();
    },
    presence: (p) => {
      workers.applyPresence(p, Date.now());
      s.refreshCounts();
    },
    duty: (d) => {
      workers.applyDuty(d, Date.now());
      s.refreshCounts();
    },
    incident: (i) => {
      if (!board.apply(i)) return;
      if (!s.seenCategories.has(i.category)) s.fillFilters();
      if (detail.current() === i.id) detail.refresh();
    },
    alarm: (a) => {
      alarms.apply(a);
      if (detail.current() === a.incidentId) detail.render();
    },
    alert: (a: AlertView) => {
      if (!feed.add(a)) return;
      s.flashes.flash(a);
      s.refreshCounts();
    },
  });
  return live;
}

/**
 * The glide loop. The second rAF, queued after Leaflet's own redraw request, closes the
 * measurement so "work" covers our moves plus Leaflet repainting the dot canvas.
 */
function startFrameLoop(s: Screen): void {
  let frameStart = 0;
  const frame = (): void => {
    frameStart = performance.now();
    requestAnimationFrame(frame);
    const moved = s.workers.tick(Date.now());
    const tickMs = performance.now() - frameStart;
    requestAnimationFrame((next) => s.meter.record(next, performance.now() - frameStart, tickMs, moved));
  };
  requestAnimationFrame(frame);
  document.addEventListener('visibilitychange', () => s.meter.pause());
  // "Today" rolls over at Shanghai midnight even when no alert arrives.
  setInterval(s.refreshCounts, 30_000);
}

/** The Devices page (设备管理, issue 15): admins, and everyone when the hub runs without login. */
function openDevicesPage(s: Screen): DevicesPage | null {
  if (s.user !== null && s.user.role !== 'admin') return null;
  return new DevicesPage({
    grids: () => [...s.levelOf].filter(([, level]) => level === 'grid').map(([code]) => ({ code, name: s.regionName(code) })),
    workers: () => s.workers.all().map((w) => ({ id: w.workerId, name: w.name })),
    regionName: s.regionName,
  });
}

function relabelOnLanguageChange(s: Screen): void {
  onLangChange(() => {
    s.devices?.render();
    s.header.relabel();
    s.feed.renderAll();
    s.board.render();
    s.fillFilters();
    s.detail.render();
    s.card.render();
    s.alarms.render();
    s.kpis.render();
    s.drill?.render();
  });
}

/** What the browser tests read (debug-hook.ts): counts and pixels, never a part itself. */
function exposeDebugHook(s: Screen, live: LiveClient): void {
  const { map, workers, user } = s;
  const pixel = (at: L.LatLngExpression): { x: number; y: number } => {
    const p = map.latLngToContainerPoint(at);
    const r = map.getContainer().getBoundingClientRect();
    return { x: r.left + p.x, y: r.top + p.y };
  };
  installDebugHook({
    workerCount: () => workers.dotCount(),
    onlineCount: () => workers.counts().online,
    markerPosition: (id) => workers.drawnPosition(id),
    workerIds: () => workers.workerIds(),
    trailSize: (id) => workers.trailSize(id),
    workerState: (id) => workers.workerState(id),
    workerPixel: (id) => {
      const at = workers.drawnPosition(id);
      return at ? pixel([at.lat, at.lon]) : null;
    },
    gridCount: () => s.gridCount,
    regionCodes: () => [...s.levelOf.keys()],
    regionPixel: (code) => (s.drill ? pixel(s.labelAnchor.get(code) ?? [0, 0]) : null),
    focusedRegion: () => s.drill?.current() ?? null,
    alertCount: () => s.feed.shown(),
    incidentIds: () => s.board.all().map((i) => i.id),
    incidentMarkerCount: () => s.board.markerCount(),
    alarmCount: () => s.alarms.count(),
    chimeCount: () => s.alarms.chimeCount(),
    replay: () => s.replay.status(),
    kpis: () => s.kpis.state(),
    user: () => (user ? { username: user.username, role: user.role, scope: user.scope } : null),
    snapshotCount: () => s.snapshots,
    connected: () => live.connected(),
    frameStats: () => s.meter.stats(),
  });
}

/**
 * The config (base map), the categories and the regions tree: the regions in the user's scope are
 * drawn and drilled into, and everything that names a grid re-renders once the names are known.
 */
async function loadRegions(s: Screen, gridClicked: (grid: string) => void): Promise<void> {
  const { map, user } = s;
  const [config, regions, cats] = await Promise.all([
    fetchConfig(),
    fetchRegions().catch((err: unknown) => {
      console.error('GET /api/regions failed', err);
      return null;
    }),
    fetchCategories(),
  ]);
  for (const c of cats) s.categories.set(c.code, c);
  if (config.tileUrl !== null) {
    L.tileLayer(config.tileUrl, { maxZoom: 20, attribution: config.tileAttribution ?? '' }).addTo(map);
    document.body.classList.add('with-tiles');
  }
  if (regions === null) {
    showBanner(t('regionsFailed'));
    return;
  }
  if (regions.dropped > 0) console.warn(`/api/regions: skipped ${regions.dropped} features that are not region polygons`);
  const features = inScope(regions.features, user?.scope ?? null);
  for (const f of features) {
    s.names.set(f.properties.code, f.properties.name);
    s.levelOf.set(f.properties.code, f.properties.level);
  }
  s.feed.renderAll();
  const view = drawRegions(map, features);
  s.gridCount = view.gridCount;
  for (const [code, r] of view.regions) {
    s.labelAnchor.set(code, r.layer.getCenter());
    if (r.props.level === 'grid') r.layer.on('click', () => gridClicked(code));
  }
  const root =
    user?.scope && view.regions.has(user.scope)
      ? user.scope
      : (features.find((f) => f.properties.parent === null)?.properties.code ?? null);
  s.drill = new DrillDown(map, view, root, el('crumbs'));
  if (root !== null) s.drill.focus(root, false);
  else if (view.bounds) map.fitBounds(view.bounds, { padding: [24, 24] });
  attachRegionLabels(map, view);
  // Everything that names a grid re-renders now that the names are known.
  s.fillFilters();
  s.board.render();
  s.alarms.render();
  s.card.render();
  s.detail.render();
  s.devices?.render();
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
