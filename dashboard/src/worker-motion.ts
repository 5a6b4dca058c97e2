// Pure motion maths for one worker's dot: where to draw it between two coalesced pushes, and the
// short trail behind it. No DOM, no Leaflet, so it is tested in plain node.

/**
 * Trail window: the last 30 minutes (issue 4). Vertices are kept at least VERTEX_GAP_MS apart (the
 * newest one moves with the worker until the gap is reached), so 30 minutes is at most 120
 * vertices however often fixes come: 3,400 trails stay a few hundred thousand vertices.
 */
export const TRAIL_MAX_AGE_MS = 30 * 60_000;
export const VERTEX_GAP_MS = 15_000;
export const TRAIL_MAX_POINTS = TRAIL_MAX_AGE_MS / VERTEX_GAP_MS + 2;
/** Before two pushes are seen, assume the hub pushes about once a second. */
export const DEFAULT_INTERVAL_MS = 1000;
const MIN_INTERVAL_MS = 100;
const MAX_INTERVAL_MS = 3000;

export interface LatLon {
  lat: number;
  lon: number;
}

/**
 * Glides a dot from where it is drawn now to the newest fix over one estimated push interval,
 * so it arrives about when the next push lands: smooth movement at the cost of one interval lag.
 */
export class Motion {
  private from: LatLon;
  private to: LatLon;
  private start = 0;
  private duration = 0;
  private lastArrival: number | null = null;
  private interval = DEFAULT_INTERVAL_MS;

  constructor(at: LatLon) {
    this.from = at;
    this.to = at;
  }

  /** Jump with no animation (snapshot, resync). */
  place(at: LatLon): void {
    this.from = at;
    this.to = at;
    this.duration = 0;
  }

  /** A new fix arrived at wall time `now`. Returns the previous target (the trail's newest point). */
  retarget(to: LatLon, now: number): LatLon {
    const prevTarget = this.to;
    if (this.lastArrival !== null) {
      const seen = Math.min(MAX_INTERVAL_MS, Math.max(MIN_INTERVAL_MS, now - this.lastArrival));
      // Smooth the estimate: pushes are coalesced, so single gaps jitter.
      this.interval = this.interval * 0.7 + seen * 0.3;
    }
    this.lastArrival = now;
    this.from = this.at(now);
    this.to = to;
    this.start = now;
    this.duration = this.interval;
    return prevTarget;
  }

  /** Where to draw the dot at `now`. */
  at(now: number): LatLon {
    if (this.duration <= 0 || now >= this.start + this.duration) return this.to;
    const k = Math.max(0, (now - this.start) / this.duration);
    return { lat: this.from.lat + (this.to.lat - this.from.lat) * k, lon: this.from.lon + (this.to.lon - this.from.lon) * k };
  }

  moving(now: number): boolean {
    return this.duration > 0 && now < this.start + this.duration;
  }

  target(): LatLon {
    return this.to;
  }
}

/** The last 30 minutes of fixes, oldest first, thinned to one vertex per VERTEX_GAP_MS. */
export class Trail {
  private readonly points: Array<LatLon & { ts: number }> = [];

  push(p: LatLon, ts: number): void {
    const last = this.points[this.points.length - 1];
    const before = this.points[this.points.length - 2];
    if (last !== undefined && last.lat === p.lat && last.lon === p.lon) {
      last.ts = ts; // standing still: no new vertex, the tail just stays fresh
    } else if (last !== undefined && before !== undefined && ts - before.ts < VERTEX_GAP_MS) {
      // Too close after the previous kept vertex: the newest one slides instead of a new one.
      last.lat = p.lat;
      last.lon = p.lon;
      last.ts = ts;
    } else {
      this.points.push({ lat: p.lat, lon: p.lon, ts });
    }
    this.trim(ts);
  }

  /** Drops points older than the window relative to `newestTs` (fix time, so replays behave). */
  trim(newestTs: number): void {
    let drop = 0;
    while (drop < this.points.length && newestTs - this.points[drop]!.ts > TRAIL_MAX_AGE_MS) drop++;
    drop = Math.max(drop, this.points.length - TRAIL_MAX_POINTS);
    if (drop > 0) this.points.splice(0, drop);
  }

  clear(): void {
    this.points.length = 0;
  }

  size(): number {
    return this.points.length;
  }

  latLngs(): Array<[number, number]> {
    return this.points.map((p) => [p.lat, p.lon]);
  }
}
