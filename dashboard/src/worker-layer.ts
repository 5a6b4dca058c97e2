// Worker dots and trails on the map: "every red dot is a grid worker, their trails recorded and
// shown live" (seed 003, Zhuzhou). Dots and trails sit on two separate canvas renderers so the
// per-frame dot redraw never repaints 3,000 trails, and trails repaint only when a push lands.
import * as L from 'leaflet';
import type { DutyChange, PositionUpdate, PresenceChange, WorkerLive } from '../../protocol/socket-events.js';
import { Motion, Trail, type LatLon } from './worker-motion.js';

/**
 * Dot states (issue 4, item 2). Patrolling stays the seeds' red; a worker on a task is cyan (the
 * eye finds who is busy), idle too long is violet, off duty a hollow red ring, offline grey.
 * Amber is kept for alerts alone, so a dot never reads as an alert.
 */
export type DotState = 'patrolling' | 'onTask' | 'idle' | 'offDuty' | 'offline';

/** Smallest on-screen step worth a repaint. */
const MIN_STEP_PX = 0.5;
const TRAIL_REPAINT_MS = 1000;
/** On duty and not moved more than IDLE_RADIUS_M for this long: "idle too long". */
export const IDLE_AFTER_MS = 10 * 60_000;
const IDLE_RADIUS_M = 30;
/** States that depend on the clock (idle) are re-evaluated this often. */
const RESTATE_MS = 5000;
/** A click this close to a dot (px) picks it. */
const HIT_PX = 9;
/**
 * Trails are drawn from this zoom in. Zoomed out to a whole district a 30-minute walk is a few
 * pixels under its dot, yet 3,400 trails of up to 120 vertices cost the trail canvas a stall
 * every second; zoomed in, the canvas draws only the trails in view.
 */
export const TRAIL_MIN_ZOOM = 14;

const DOT_STYLE: Record<DotState, L.CircleMarkerOptions> = {
  patrolling: { radius: 5, color: '#ffd7d4', weight: 1, fillColor: '#ff3b30', fillOpacity: 1 },
  onTask: { radius: 5.5, color: '#d9f6ff', weight: 1.5, fillColor: '#19b5ff', fillOpacity: 1 },
  idle: { radius: 5, color: '#eadcff', weight: 1, fillColor: '#a05cff', fillOpacity: 1 },
  offDuty: { radius: 4, color: '#ff6b61', weight: 2, fillColor: '#07111f', fillOpacity: 1 },
  offline: { radius: 4, color: '#5b6270', weight: 1, fillColor: '#8a8f98', fillOpacity: 0.7 },
};
const TRAIL_COLOR: Record<DotState, string> = {
  patrolling: '#ff6b61',
  onTask: '#5cc8ff',
  idle: '#b98aff',
  offDuty: '#c46a64',
  offline: '#8a8f98',
};
/** Drawn on top of the others (a busy or stuck worker must not hide under a grey dot). */
const RAISED: ReadonlySet<DotState> = new Set(['patrolling', 'onTask', 'idle']);

function metresBetween(a: LatLon, b: LatLon): number {
  const dy = (a.lat - b.lat) * 111_320;
  const dx = (a.lon - b.lon) * 111_320 * Math.cos((a.lat * Math.PI) / 180);
  return Math.hypot(dx, dy);
}

interface Tracked {
  info: WorkerLive;
  motion: Motion;
  trail: Trail;
  /** Fix time of the motion's current target; becomes a trail vertex when the next fix arrives. */
  targetTs: number;
  dot: L.CircleMarker | null;
  tail: L.Polyline | null;
  /** State the dot and tail were last styled for; restyle only when it changes. */
  drawn: DotState | null;
  tailDrawn: DotState | null;
  /** Where the worker last moved more than IDLE_RADIUS_M from, and when (fix time). */
  anchor: LatLon | null;
  movedAt: number;
}

/** What the layer needs to know about dispatch: the open task a worker is on, if any. */
export type TaskLookup = (workerId: string) => { id: string } | undefined;

export class WorkerLayer {
  private readonly workers = new Map<string, Tracked>();
  private readonly byDevice = new Map<string, string>();
  /** Workers whose dot is gliding; the frame loop only touches these. */
  private readonly moving = new Set<Tracked>();
  /** Workers whose glide ended while off screen, so their dot still shows an older spot. */
  private readonly offscreen = new Set<Tracked>();
  private readonly dirtyTrails = new Set<Tracked>();
  private readonly dotRenderer: L.Canvas;
  private readonly trailRenderer: L.Canvas;
  /** Trail polylines live in this group; it is on the map only from TRAIL_MIN_ZOOM in. */
  private readonly trailGroup = L.layerGroup();

  private taskOf: TaskLookup = () => undefined;

  constructor(private readonly map: L.Map) {
    // Both canvases let the pointer through (app.css): clicks on dots are hit-tested in pick(),
    // so the grid polygons underneath keep their hover and drill-down clicks.
    map.createPane('trails').style.zIndex = '410';
    map.createPane('workers').style.zIndex = '430';
    this.trailRenderer = L.canvas({ pane: 'trails', padding: 0.2 });
    this.dotRenderer = L.canvas({ pane: 'workers', padding: 0.2 });
    map.on('moveend', () => this.placeOffscreen());
    const showTrails = (): void => {
      const want = map.getZoom() >= TRAIL_MIN_ZOOM;
      if (want && !map.hasLayer(this.trailGroup)) this.trailGroup.addTo(map);
      else if (!want && map.hasLayer(this.trailGroup)) this.trailGroup.remove();
    };
    map.on('zoomend', showTrails);
    showTrails();
    setInterval(() => this.flushTrails(), TRAIL_REPAINT_MS);
    setInterval(() => this.restate(Date.now()), RESTATE_MS);
  }

  setTaskLookup(fn: TaskLookup): void {
    this.taskOf = fn;
  }

  /** Re-evaluates every dot's state (incidents changed, or the clock made someone idle). */
  restate(now: number): void {
    for (const t of this.workers.values()) if (t.dot && this.stateOf(t, now) !== t.drawn) this.redraw(t, now);
  }

  stateOf(t: Tracked, now: number): DotState {
    const w = t.info;
    if (!w.online) return 'offline';
    if (w.duty !== 'on') return 'offDuty';
    if (this.taskOf(w.workerId)) return 'onTask';
    if (now - t.movedAt > IDLE_AFTER_MS) return 'idle';
    return 'patrolling';
  }

  /** The state of one worker, for the card and the tests. */
  workerState(workerId: string, now = Date.now()): DotState | null {
    const t = this.workers.get(workerId);
    return t ? this.stateOf(t, now) : null;
  }

  info(workerId: string): WorkerLive | null {
    return this.workers.get(workerId)?.info ?? null;
  }

  all(): WorkerLive[] {
    return [...this.workers.values()].map((t) => t.info);
  }

  /** The worker whose dot is drawn within a few pixels of a container point, nearest first. */
  pick(point: L.Point): string | null {
    let best: string | null = null;
    let bestD = HIT_PX * HIT_PX;
    for (const [id, t] of this.workers) {
      if (!t.dot) continue;
      const p = this.map.latLngToContainerPoint(t.dot.getLatLng());
      const d = (p.x - point.x) ** 2 + (p.y - point.y) ** 2;
      if (d <= bestD) {
        bestD = d;
        best = id;
      }
    }
    return best;
  }

  /** A snapshot is the truth about who exists and where: dots jump to it, trails are kept. */
  applySnapshot(list: WorkerLive[], now: number): void {
    const seen = new Set<string>();
    for (const w of list) {
      seen.add(w.workerId);
      const existing = this.workers.get(w.workerId);
      if (existing) {
        existing.info = { ...w };
        if (w.lat !== null && w.lon !== null) {
          existing.motion.place({ lat: w.lat, lon: w.lon });
          existing.dot?.setLatLng([w.lat, w.lon]);
        }
        this.offscreen.delete(existing);
        existing.targetTs = w.ts ?? now;
        this.moving.delete(existing);
        this.redraw(existing, now);
      } else {
        this.add(w, now);
      }
      this.byDevice.set(w.deviceId, w.workerId);
    }
    for (const [id, t] of this.workers) if (!seen.has(id)) this.remove(id, t);
  }

  /** Returns the ids it did not know (a worker added after the snapshot: the caller resyncs). */
  applyPositions(items: PositionUpdate[], now: number): string[] {
    const unknown: string[] = [];
    for (const p of items) {
      const t = this.workers.get(p.workerId);
      if (!t) {
        unknown.push(p.workerId);
        continue;
      }
      if (t.info.ts !== null && p.ts < t.info.ts) continue; // a late, older fix: keep the newer one
      const to = { lat: p.lat, lon: p.lon };
      if (t.info.lat === null || t.dot === null) {
        t.motion.place(to);
      } else {
        const prev = t.motion.retarget(to, now);
        t.trail.push(prev, t.targetTs);
        t.trail.trim(p.ts);
        this.moving.add(t);
      }
      t.targetTs = p.ts;
      if (t.anchor === null || metresBetween(t.anchor, to) > IDLE_RADIUS_M) {
        t.anchor = to;
        t.movedAt = p.ts;
      }
      t.info.lat = p.lat;
      t.info.lon = p.lon;
      t.info.ts = p.ts;
      if (p.battery !== undefined) t.info.battery = p.battery;
      this.redraw(t, now);
    }
    return unknown;
  }

  applyPresence(p: PresenceChange, now: number): void {
    const id = p.workerId ?? this.byDevice.get(p.deviceId);
    const t = id === undefined ? undefined : this.workers.get(id);
    if (!t || t.info.online === p.online) return;
    t.info.online = p.online;
    this.redraw(t, now);
  }

  applyDuty(d: DutyChange, now: number): void {
    const t = this.workers.get(d.workerId);
    if (!t || t.info.duty === d.duty) return;
    t.info.duty = d.duty;
    this.redraw(t, now);
  }

  /**
   * One animation frame: move gliding dots, but only those that would shift by half a pixel or
   * more. A walker covers ~1 m/s, a fraction of a pixel at district zoom, and Leaflet's
   * setLatLng costs several µs plus a repaint: skipping sub-pixel and off-screen moves is what
   * keeps 3,400 dots cheap, while zoomed in (where motion shows) every frame still moves them.
   */
  tick(now: number): number {
    const pxPerDeg = (256 * 2 ** this.map.getZoom()) / 360;
    const view = this.map.getBounds().pad(0.1);
    let n = 0;
    for (const t of this.moving) {
      const done = !t.motion.moving(now);
      if (done) this.moving.delete(t);
      const cur = t.dot?.getLatLng();
      if (!cur) continue;
      const at = t.motion.at(now);
      if (!view.contains(cur) && !view.contains([at.lat, at.lon])) {
        if (done) this.offscreen.add(t); // placed when the map next comes to rest
        continue;
      }
      const dx = (at.lon - cur.lng) * pxPerDeg;
      // Mercator stretches latitude by 1/cos(lat); close enough for a threshold.
      const dy = ((at.lat - cur.lat) * pxPerDeg) / Math.cos((at.lat * Math.PI) / 180);
      if (dx * dx + dy * dy >= MIN_STEP_PX * MIN_STEP_PX) {
        t.dot?.setLatLng([at.lat, at.lon]);
        n++;
      }
    }
    return n;
  }

  /** After a pan or zoom: dots that finished gliding off screen jump to where they are now. */
  private placeOffscreen(): void {
    const now = Date.now();
    for (const t of this.offscreen) {
      const at = t.motion.at(now);
      t.dot?.setLatLng([at.lat, at.lon]);
    }
    this.offscreen.clear();
  }

  /** Dots on the map (workers with a known position). */
  dotCount(): number {
    let n = 0;
    for (const t of this.workers.values()) if (t.dot) n++;
    return n;
  }

  counts(): { total: number; online: number; onDuty: number } {
    let online = 0;
    let onDuty = 0;
    for (const { info } of this.workers.values()) {
      if (info.online) online++;
      if (info.online && info.duty === 'on') onDuty++;
    }
    return { total: this.workers.size, online, onDuty };
  }

  /** Where the dot is drawn right now (mid-glide included), or null. */
  drawnPosition(workerId: string): LatLon | null {
    const ll = this.workers.get(workerId)?.dot?.getLatLng();
    return ll ? { lat: ll.lat, lon: ll.lng } : null;
  }

  /** Vertices in a worker's trail (0 when unknown). */
  trailSize(workerId: string): number {
    return this.workers.get(workerId)?.trail.size() ?? 0;
  }

  workerIds(): string[] {
    return [...this.workers.keys()];
  }

  private add(w: WorkerLive, now: number): void {
    const at = w.lat !== null && w.lon !== null ? { lat: w.lat, lon: w.lon } : { lat: 0, lon: 0 };
    // No history yet: count the worker as having moved at the last fix (the hub does not say more).
    const anchor = w.lat !== null && w.lon !== null ? { lat: w.lat, lon: w.lon } : null;
    const t: Tracked = {
      info: { ...w },
      motion: new Motion(at),
      trail: new Trail(),
      targetTs: w.ts ?? now,
      dot: null,
      tail: null,
      drawn: null,
      tailDrawn: null,
      anchor,
      movedAt: w.ts ?? now,
    };
    this.workers.set(w.workerId, t);
    this.redraw(t, now);
  }

  private remove(id: string, t: Tracked): void {
    t.dot?.remove();
    if (t.tail) this.trailGroup.removeLayer(t.tail);
    this.moving.delete(t);
    this.offscreen.delete(t);
    this.dirtyTrails.delete(t);
    this.workers.delete(id);
    this.byDevice.delete(t.info.deviceId);
  }

  /** Brings the dot's colour and the trail's vertices in line with the worker's state. */
  private redraw(t: Tracked, now: number): void {
    if (t.info.lat === null || t.info.lon === null) return;
    const state = this.stateOf(t, now);
    const at = t.motion.at(now);
    if (!t.dot) {
      t.dot = L.circleMarker([at.lat, at.lon], { ...DOT_STYLE[state], renderer: this.dotRenderer, interactive: false });
      t.dot.addTo(this.map);
    } else if (t.drawn !== state) {
      t.dot.setStyle(DOT_STYLE[state]);
      if (RAISED.has(state)) t.dot.bringToFront(); // coloured dots stay above grey ones
    }
    t.drawn = state;
    if (t.trail.size() >= 1) this.dirtyTrails.add(t);
  }

  /**
   * Trails repaint once a second, not on every push: they change by a vertex per fix, and each
   * repaint of the trail canvas walks every trail (3,400 x up to 120 vertices).
   */
  private flushTrails(): void {
    for (const t of this.dirtyTrails) {
      const state = t.drawn ?? 'offline';
      // The trail runs to where the dot is gliding from, so the dot itself draws the last leg.
      const pts = t.trail.latLngs();
      const style = { color: TRAIL_COLOR[state], weight: 2, opacity: state === 'offline' ? 0.35 : 0.6 };
      if (!t.tail) {
        t.tail = L.polyline(pts, { ...style, renderer: this.trailRenderer, interactive: false, smoothFactor: 1.5 });
        this.trailGroup.addLayer(t.tail);
      } else {
        t.tail.setLatLngs(pts);
        if (t.tailDrawn !== state) t.tail.setStyle(style);
      }
      t.tailDrawn = state;
    }
    this.dirtyTrails.clear();
  }
}
