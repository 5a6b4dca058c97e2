// Entry point of the command screen: signs in when the hub asks for it, then wires the map, the
// layers, the panels, the header and the live link. Each piece owns one job; this file only
// connects them.
import * as L from 'leaflet';
import type { AlertView, LiveSnapshot, PositionUpdate } from '../../protocol/socket-events.js';
import { AlarmBar } from './alarm-bar.js';
import { AlertFeed } from './alert-feed.js';
import { AlertFlash } from './alert-flash.js';
import { fetchCategories, fetchConfig, fetchMe, fetchRegions, logout, setUnauthorizedHandler, type Category, type RegionFeature, type SessionUser } from './api-client.js';
import { installDebugHook } from './debug-hook.js';
import { DrillDown } from './drill-down.js';
import { DevicesPage } from './devices-page.js';
import { FrameMeter } from './frame-stats.js';
import { HeaderBar } from './header-bar.js';
import { CATEGORY_FALLBACK, alertTypeLabel, lang, onLangChange, t } from './i18n.js';
import { IncidentBoard } from './incident-board.js';
import { IncidentDetailPanel } from './incident-detail.js';
import { KpiTilesView } from './kpi-tiles.js';
import { LiveClient } from './live-client.js';
import { askForLogin } from './login-gate.js';
import { attachRegionLabels, drawRegions } from './region-layer.js';
import { TrailReplay } from './trail-replay.js';
import { WorkerCard } from './worker-card.js';
import { WorkerLayer } from './worker-layer.js';
import { addSecretPanelExtension } from './devices-hooks.js';
import { ownTracksQrPanel } from './owntracks-qr-panel.js';

// The OwnTracks QR code in the Devices page's secret panel (one scan sets up the phone).
addSecretPanelExtension(ownTracksQrPanel);

// A fallback view (Zhuzhou, the seeds' city) until the regions arrive and we fit to them.
const FALLBACK_CENTER: L.LatLngExpression = [27.83, 113.15];

function el<T extends HTMLElement = HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`index.html lacks #${id}`);
  return found as T;
}

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
  const user = await signIn();
  // A 401 later means the session ended (expiry, sign-out elsewhere): back to the form.
  const sessionEnded = (): void => {
    if (user !== null) window.location.reload();
  };
  setUnauthorizedHandler(sessionEnded);
  header.setUser(user, () => void logout().finally(() => window.location.reload()));
  const canAct = user === null || user.role !== 'viewer';
  document.body.classList.toggle('read-only', !canAct);

  const map = L.map('map', { zoomControl: true, attributionControl: true, zoomSnap: 0.25, minZoom: 3, maxZoom: 20 });
  map.attributionControl.setPrefix('Leaflet');
  map.setView(FALLBACK_CENTER, 13);
  // The map's box changes after start (the KPI bar and panels lay out, a wall screen is resized):
  // Leaflet only paints the size it knew, so tell it (otherwise part of the grid layer stays blank).
  new ResizeObserver(() => map.invalidateSize({ pan: false })).observe(map.getContainer());

  const names = new Map<string, string>();
  const regionName = (code: string): string => names.get(code) ?? code;
  const categories = new Map<string, Category>();
  const categoryName = (code: string): string => {
    const c = categories.get(code);
    if (c) return lang() === 'zh' ? c.nameZh : c.nameEn;
    return CATEGORY_FALLBACK[code]?.[lang()] ?? alertTypeLabel(code);
  };
  const workers = new WorkerLayer(map);
  const workerName = (id: string): string => workers.info(id)?.name ?? id;
  const flashes = new AlertFlash(map);
  const feed = new AlertFeed(el('feed-list'), (a) => flashes.focus(a), regionName);
  const meter = new FrameMeter();
  let gridCount = 0;
  let snapshots = 0;
  let drill: DrillDown | null = null;

  // Side panel tabs: incidents, alerts, replay.
  const tabs = document.querySelector('.tabs') as HTMLElement;
  const showTab = (name: string): void => {
    for (const b of tabs.querySelectorAll<HTMLElement>('[data-tab]')) b.classList.toggle('active', b.dataset.tab === name);
    for (const p of document.querySelectorAll<HTMLElement>('[data-panel]')) p.hidden = p.dataset.panel !== name;
    if (name === 'replay') replay.refreshWorkers();
  };
  tabs.addEventListener('click', (e) => {
    const name = (e.target as HTMLElement).closest<HTMLElement>('[data-tab]')?.dataset.tab;
    if (name) showTab(name);
  });

  const detail = new IncidentDetailPanel(el('incident-detail'), {
    get: (id) => board.get(id),
    categoryName,
    regionName,
    workerName,
    focus: (id) => board.focus(id),
    alarms: (id) => alarms.forIncident(id),
    canAcknowledge: () => canAct,
    acknowledge: (alarmId) => alarms.acknowledge(alarmId),
  });
  const openIncident = (id: string): void => {
    card.hide();
    detail.show(id);
  };
  const board = new IncidentBoard(map, el('incident-list'), el('incident-filters'), {
    categoryName,
    regionName,
    workerName,
    open: openIncident,
    tasksChanged: () => workers.restate(Date.now()),
  });
  workers.setTaskLookup((id) => board.taskOf(id));
  const alarms = new AlarmBar(el('alarm-bar'), {
    incidentTitle: (id) => {
      const i = board.get(id);
      return i ? (i.title ?? categoryName(i.category)) : id;
    },
    regionName,
    open: openIncident,
    canAcknowledge: () => canAct,
  });
  const replay = new TrailReplay(map, document.querySelector('[data-panel="replay"]') as HTMLElement, () => workers.all());
  const card = new WorkerCard(
    el('worker-card'),
    {
      info: (id) => workers.info(id),
      state: (id) => workers.workerState(id),
      task: (id) => board.taskOf(id),
      regionName,
      categoryName,
    },
    {
      openIncident,
      replay: (id) => {
        showTab('replay');
        void replay.load(id, (document.querySelector('[name="replay-day"]') as HTMLInputElement).value);
      },
    },
  );
  const kpis = new KpiTilesView(el('kpis'), user?.scope ?? null);
  kpis.start();

  // One click handler for the map: a worker's dot first (hit-tested, the dot canvas lets clicks
  // through), else the grid under the pointer drills one level down towards it.
  // Leaflet fires a grid polygon's click before the map's, for the same DOM event.
  let clickedGrid: string | null = null;
  map.on('click', (e: L.LeafletMouseEvent) => {
    const grid = clickedGrid;
    clickedGrid = null;
    const hit = workers.pick(e.containerPoint);
    if (hit !== null) {
      detail.hide();
      card.show(hit);
      return;
    }
    if (grid !== null) drill?.towards(grid);
  });

  const refreshCounts = (): void => {
    const c = workers.counts();
    header.setCounts({ online: c.online, total: c.total, onDuty: c.onDuty, alertsToday: feed.today(Date.now()) });
  };

  const live = new LiveClient({
    link: (s) => header.setLink(s),
    unauthorized: sessionEnded,
    snapshot: (s: LiveSnapshot) => {
      snapshots++;
      board.reset(s.incidents);
      fillFilters();
      workers.applySnapshot(s.workers, Date.now());
      feed.reset(s.alerts);
      alarms.reset(s.alarms);
      refreshCounts();
      detail.refresh();
      card.render();
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
    incident: (i) => {
      if (!board.apply(i)) return;
      if (!seenCategories.has(i.category)) fillFilters();
      if (detail.current() === i.id) detail.refresh();
    },
    alarm: (a) => {
      alarms.apply(a);
      if (detail.current() === a.incidentId) detail.render();
    },
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

  const levelOf = new Map<string, string>();
  const seenCategories = new Set<string>();
  const fillFilters = (): void => {
    for (const i of board.all()) seenCategories.add(i.category);
    const cats = new Set([...categories.keys(), ...seenCategories]);
    board.fillFilterOptions(
      [...cats].map((code) => ({ code })),
      [...levelOf].filter(([, level]) => level === 'grid').map(([code]) => ({ code })),
    );
  };

  // The Devices page (设备管理, issue 15): admins, and everyone when the hub runs without login.
  const devices = user === null || user.role === 'admin'
    ? new DevicesPage({
      grids: () => [...levelOf].filter(([, level]) => level === 'grid').map(([code]) => ({ code, name: regionName(code) })),
      workers: () => workers.all().map((w) => ({ id: w.workerId, name: w.name })),
      regionName,
    })
    : null;

  onLangChange(() => {
    devices?.render();
    header.relabel();
    feed.renderAll();
    board.render();
    fillFilters();
    detail.render();
    card.render();
    alarms.render();
    kpis.render();
    drill?.render();
  });

  installDebugHook({
    workerCount: () => workers.dotCount(),
    onlineCount: () => workers.counts().online,
    markerPosition: (id) => workers.drawnPosition(id),
    workerIds: () => workers.workerIds(),
    trailSize: (id) => workers.trailSize(id),
    workerState: (id) => workers.workerState(id),
    workerPixel: (id) => {
      const at = workers.drawnPosition(id);
      if (!at) return null;
      const p = map.latLngToContainerPoint([at.lat, at.lon]);
      const r = map.getContainer().getBoundingClientRect();
      return { x: r.left + p.x, y: r.top + p.y };
    },
    gridCount: () => gridCount,
    regionCodes: () => [...levelOf.keys()],
    regionPixel: (code) => {
      const p = drill ? map.latLngToContainerPoint(labelAnchor.get(code) ?? [0, 0]) : null;
      const r = map.getContainer().getBoundingClientRect();
      return p ? { x: r.left + p.x, y: r.top + p.y } : null;
    },
    focusedRegion: () => drill?.current() ?? null,
    alertCount: () => feed.shown(),
    incidentIds: () => board.all().map((i) => i.id),
    incidentMarkerCount: () => board.markerCount(),
    alarmCount: () => alarms.count(),
    chimeCount: () => alarms.chimeCount(),
    replay: () => replay.status(),
    kpis: () => kpis.state(),
    user: () => (user ? { username: user.username, role: user.role, scope: user.scope } : null),
    snapshotCount: () => snapshots,
    connected: () => live.connected(),
    frameStats: () => meter.stats(),
  });

  const labelAnchor = new Map<string, L.LatLng>();
  const [config, regions, cats] = await Promise.all([
    fetchConfig(),
    fetchRegions().catch((err: unknown) => {
      console.error('GET /api/regions failed', err);
      return null;
    }),
    fetchCategories(),
  ]);
  for (const c of cats) categories.set(c.code, c);
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
    names.set(f.properties.code, f.properties.name);
    levelOf.set(f.properties.code, f.properties.level);
  }
  feed.renderAll();
  const view = drawRegions(map, features);
  gridCount = view.gridCount;
  for (const [code, r] of view.regions) {
    labelAnchor.set(code, r.layer.getCenter());
    if (r.props.level === 'grid') r.layer.on('click', () => (clickedGrid = code));
  }
  const root = user?.scope && view.regions.has(user.scope) ? user.scope : (features.find((f) => f.properties.parent === null)?.properties.code ?? null);
  drill = new DrillDown(map, view, root, el('crumbs'));
  if (root !== null) drill.focus(root, false);
  else if (view.bounds) map.fitBounds(view.bounds, { padding: [24, 24] });
  attachRegionLabels(map, view);
  // Everything that names a grid re-renders now that the names are known.
  fillFilters();
  board.render();
  alarms.render();
  card.render();
  detail.render();
  devices?.render();
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
