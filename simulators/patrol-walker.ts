// A grid worker on patrol ("人在格中走"): walks at 1.2-1.5 m/s between waypoints sampled inside the
// grid polygon, lingering at some of them. Pure: time only moves when advance() is called.
//
// Straight legs stay inside because both ends are inside and demo grids are convex (see
// region-lattice.ts); for a concave imported grid a leg could cut a corner, so the walker checks the
// midpoint of each new leg and redraws the waypoint if it falls outside.
//
// On a task the walker leaves its patrol: goTo() walks straight to the incident (which may lie in a
// neighbouring grid or just outside the district) and stands there; resumePatrol() walks back into
// the grid and carries on.
import type { Polygon } from 'geojson';
import { fromLocal, insidePolygon, samplePointIn, toLocal, type LatLon } from './geo-local.js';
import type { Rng } from './rng.js';

export interface WalkerOptions {
  minSpeed?: number;
  maxSpeed?: number;
  /** Chance of stopping at a waypoint (talking to a resident, checking a door). */
  dwellChance?: number;
  dwellS?: readonly [number, number];
  /** Waypoints keep this far from the polygon's bounding box, so a fix's noise stays in the grid. */
  marginM?: number;
}

export interface WalkerState extends LatLon {
  /** m/s; 0 while lingering. */
  speed: number;
  /** Degrees clockwise from north, [0, 360). */
  heading: number;
}

export class PatrolWalker {
  private readonly origin: LatLon;
  private x: number;
  private y: number;
  private target: { x: number; y: number };
  private speed: number;
  private heading = 0;
  private dwellLeft = 0;
  /** Walking to a task's place: no waypoints, no lingering, stop on arrival. */
  private task: { x: number; y: number } | null = null;
  private readonly o: Required<WalkerOptions>;

  constructor(
    private readonly polygon: Polygon,
    private readonly rng: Rng,
    opts: WalkerOptions = {},
  ) {
    this.o = { minSpeed: 1.2, maxSpeed: 1.5, dwellChance: 0.3, dwellS: [10, 90], marginM: 5, ...opts };
    const start = samplePointIn(polygon, rng, this.o.marginM);
    this.origin = start;
    this.x = 0;
    this.y = 0;
    this.speed = rng.float(this.o.minSpeed, this.o.maxSpeed);
    this.target = this.nextWaypoint();
  }

  get state(): WalkerState {
    const p = fromLocal(this.origin, this.x, this.y);
    const still = this.dwellLeft > 0 || (this.task !== null && this.remainingM === 0);
    return { ...p, speed: still ? 0 : this.speed, heading: this.heading };
  }

  /** On a task: metres left to its place (0 once there); null on patrol. */
  get remainingM(): number | null {
    return this.task ? Math.hypot(this.task.x - this.x, this.task.y - this.y) : null;
  }

  /** Current walking speed, m/s. */
  get pace(): number {
    return this.speed;
  }

  /** Leaves the patrol and walks straight to `p` at walking speed (a new pace is drawn). */
  goTo(p: LatLon): void {
    const t = toLocal(this.origin, p);
    this.task = t;
    this.dwellLeft = 0;
    this.speed = this.rng.float(this.o.minSpeed, this.o.maxSpeed);
    if (Math.hypot(t.x - this.x, t.y - this.y) > 0) this.heading = headingOf(t.x - this.x, t.y - this.y);
  }

  /** Back to patrolling the grid; from outside it, the first leg leads back in. */
  resumePatrol(): void {
    if (!this.task) return;
    this.task = null;
    this.speed = this.rng.float(this.o.minSpeed, this.o.maxSpeed);
    this.target = this.nextWaypoint(!insidePolygon(fromLocal(this.origin, this.x, this.y), this.polygon));
  }

  /** Walks for dtS seconds: along legs, through waypoints, through pauses. */
  advance(dtS: number): WalkerState {
    let left = dtS;
    if (this.task) {
      const dx = this.task.x - this.x;
      const dy = this.task.y - this.y;
      const dist = Math.hypot(dx, dy);
      const step = Math.min(dist, this.speed * left);
      if (dist > 0) {
        this.x += (dx / dist) * step;
        this.y += (dy / dist) * step;
      }
      if (step === dist) {
        this.x = this.task.x;
        this.y = this.task.y;
      }
      return this.state;
    }
    while (left > 1e-9) {
      if (this.dwellLeft > 0) {
        const d = Math.min(this.dwellLeft, left);
        this.dwellLeft -= d;
        left -= d;
        continue;
      }
      const dx = this.target.x - this.x;
      const dy = this.target.y - this.y;
      const dist = Math.hypot(dx, dy);
      const reach = this.speed * left;
      if (reach < dist) {
        this.x += (dx / dist) * reach;
        this.y += (dy / dist) * reach;
        left = 0;
      } else {
        this.x = this.target.x;
        this.y = this.target.y;
        left -= dist / this.speed;
        if (this.rng.chance(this.o.dwellChance)) this.dwellLeft = this.rng.float(this.o.dwellS[0], this.o.dwellS[1]);
        this.speed = this.rng.float(this.o.minSpeed, this.o.maxSpeed);
        this.target = this.nextWaypoint();
      }
    }
    return this.state;
  }

  /** `returning`: the walker is outside its grid, so any inside waypoint will do as the way back. */
  private nextWaypoint(returning = false): { x: number; y: number } {
    for (let i = 0; i < 50; i++) {
      const t = toLocal(this.origin, samplePointIn(this.polygon, this.rng, this.o.marginM));
      if (returning) {
        this.heading = headingOf(t.x - this.x, t.y - this.y);
        return t;
      }
      const mid = fromLocal(this.origin, (this.x + t.x) / 2, (this.y + t.y) / 2);
      // Legs shorter than 20 m look like jitter on the map; concave corners must not be cut.
      if (Math.hypot(t.x - this.x, t.y - this.y) < 20 || !insidePolygon(mid, this.polygon)) continue;
      this.heading = headingOf(t.x - this.x, t.y - this.y);
      return t;
    }
    // Nowhere to go (a sliver of a grid): stand still a while rather than spin.
    this.dwellLeft = Math.max(this.dwellLeft, 30);
    return { x: this.x, y: this.y };
  }
}

function headingOf(dx: number, dy: number): number {
  const deg = (Math.atan2(dx, dy) * 180) / Math.PI;
  // One decimal, and 359.96 rounds to 360, which is 0.
  return (Math.round(((deg + 360) % 360) * 10) / 10) % 360;
}
