// The command screen's parts and the state they share, built in one place so main.ts can wire them
// step by step: the lookups that turn codes into names, the worker layer, the feeds, the incident
// board and detail, the alarm bar, the replay, the worker card and the KPI tiles. The parts refer to
// each other through closures, so the order they are made in does not matter.
import type * as L from 'leaflet';
import type { Category, SessionUser } from './api-client.js';
import { AlarmBar } from './alarm-bar.js';
import { AlertFeed } from './alert-feed.js';
import { AlertFlash } from './alert-flash.js';
import type { DevicesPage } from './devices-page.js';
import type { DrillDown } from './drill-down.js';
import { FrameMeter } from './frame-stats.js';
import type { HeaderBar } from './header-bar.js';
import { CATEGORY_FALLBACK, alertTypeLabel, lang } from './i18n.js';
import { IncidentBoard } from './incident-board.js';
import { IncidentDetailPanel } from './incident-detail.js';
import { KpiTilesView } from './kpi-tiles.js';
import { TrailReplay } from './trail-replay.js';
import { WorkerCard } from './worker-card.js';
import { WorkerLayer } from './worker-layer.js';

export function el<T extends HTMLElement = HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`index.html lacks #${id}`);
  return found as T;
}

export interface Screen {
  map: L.Map;
  header: HeaderBar;
  /** null = the hub runs without login (every screen sees everything). */
  user: SessionUser | null;
  /** Viewers see everything and act on nothing. */
  canAct: boolean;
  /** Filled once the regions and categories arrive; until then codes stand for themselves. */
  names: Map<string, string>;
  levelOf: Map<string, string>;
  labelAnchor: Map<string, L.LatLng>;
  categories: Map<string, Category>;
  /** Categories met in incidents, so the filter offers them even when the hub's list lacks them. */
  seenCategories: Set<string>;
  regionName(code: string): string;
  categoryName(code: string): string;
  workerName(id: string): string;
  workers: WorkerLayer;
  flashes: AlertFlash;
  feed: AlertFeed;
  meter: FrameMeter;
  board: IncidentBoard;
  detail: IncidentDetailPanel;
  alarms: AlarmBar;
  replay: TrailReplay;
  card: WorkerCard;
  kpis: KpiTilesView;
  /** Set by the steps that make them (the Devices page, the drill-down once the regions are in). */
  devices: DevicesPage | null;
  drill: DrillDown | null;
  gridCount: number;
  snapshots: number;
  showTab(name: string): void;
  openIncident(id: string): void;
  fillFilters(): void;
  refreshCounts(): void;
}

/** Every part of the screen, wired to the others; nothing is fetched or connected yet. */
export function buildScreen(map: L.Map, header: HeaderBar, user: SessionUser | null): Screen {
  const canAct = user === null || user.role !== 'viewer';
  const names = new Map<string, string>();
  const levelOf = new Map<string, string>();
  const categories = new Map<string, Category>();
  const seenCategories = new Set<string>();
  const regionName = (code: string): string => names.get(code) ?? code;
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
  // The parts refer to each other (the board opens the detail, the detail asks the alarm bar, the
  // card opens the replay) through closures called only after all of them exist.
  const showTab = sidePanelTabs(() => replay);
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
  const refreshCounts = (): void => {
    const c = workers.counts();
    header.setCounts({ online: c.online, total: c.total, onDuty: c.onDuty, alertsToday: feed.today(Date.now()) });
  };
  const fillFilters = (): void => {
    for (const i of board.all()) seenCategories.add(i.category);
    const cats = new Set([...categories.keys(), ...seenCategories]);
    board.fillFilterOptions(
      [...cats].map((code) => ({ code })),
      [...levelOf].filter(([, level]) => level === 'grid').map(([code]) => ({ code })),
    );
  };
  return {
    map,
    header,
    user,
    canAct,
    names,
    levelOf,
    labelAnchor: new Map(),
    categories,
    seenCategories,
    regionName,
    categoryName,
    workerName,
    workers,
    flashes,
    feed,
    meter,
    board,
    detail,
    alarms,
    replay,
    card,
    kpis,
    devices: null,
    drill: null,
    gridCount: 0,
    snapshots: 0,
    showTab,
    openIncident,
    fillFilters,
    refreshCounts,
  };
}

/** Side panel tabs: incidents, alerts, replay. Returns how to switch to one. */
function sidePanelTabs(replay: () => TrailReplay): (name: string) => void {
  const tabs = document.querySelector('.tabs') as HTMLElement;
  const showTab = (name: string): void => {
    for (const b of tabs.querySelectorAll<HTMLElement>('[data-tab]')) b.classList.toggle('active', b.dataset.tab === name);
    for (const p of document.querySelectorAll<HTMLElement>('[data-panel]')) p.hidden = p.dataset.panel !== name;
    if (name === 'replay') replay().refreshWorkers();
  };
  tabs.addEventListener('click', (e) => {
    const name = (e.target as HTMLElement).closest<HTMLElement>('[data-tab]')?.dataset.tab;
    if (name) showTab(name);
  });
  return showTab;
}
