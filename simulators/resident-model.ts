// What simulated residents do, without I/O (issue #3 item 8, the 12345 channel): when complaints
// come (a Poisson process shaped by the hour of the day in Asia/Shanghai), where (mostly inside a
// grid, some exactly on a border two grids share, a few just outside the district: the locator must
// still give each one owner, DESIGN §4), about what, and how the resident rates the result
// ("谁呼谁评"; an unsatisfied rating reopens the case, seed 001). resident-sim.ts does the HTTP.
import type { Polygon, Position } from 'geojson';
import type { DemoDistrict } from './demo-district.js';
import { personName } from './demo-names.js';
import { fromLocal, insidePolygon, round7, samplePointIn, toLocal, type LatLon } from './geo-local.js';
import type { Rng } from './rng.js';

export interface ResidentBehaviourOptions {
  /** Complaints per simulated hour across the district, averaged over a day. */
  perHour: number;
  /** Share of complaints placed exactly on a grid border, and just outside the district. */
  borderShare: number;
  outsideShare: number;
  /** Metres outside the district boundary for the outside ones. */
  outsideM: readonly [number, number];
  /** First rating: share unsatisfied (1-2); after a reopen, the share unsatisfied again. */
  unsatisfiedShare: number;
  unsatisfiedAgainShare: number;
  /** Share of residents who never rate (the hub closes by default after its rating window). */
  silentShare: number;
  /** Seconds between a resident seeing the case resolved and rating it. */
  rateAfterS: readonly [number, number];
  /** Seconds between status checks of an open complaint. */
  pollEveryS: number;
}

export const DEFAULT_RESIDENT_BEHAVIOUR: Readonly<ResidentBehaviourOptions> = Object.freeze({
  perHour: 4,
  borderShare: 0.12,
  outsideShare: 0.06,
  outsideM: [15, 250] as const,
  unsatisfiedShare: 0.12,
  unsatisfiedAgainShare: 0.04,
  silentShare: 0.03,
  rateAfterS: [300, 2 * 3600] as const,
  pollEveryS: 600,
});

/**
 * Relative complaint rate by hour of day (Asia/Shanghai), mean 1: quiet at night, a morning peak
 * when offices open, another in the evening when people are home (noise, parking).
 */
export const HOURLY_PROFILE: readonly number[] = (() => {
  const raw = [0.2, 0.15, 0.1, 0.1, 0.1, 0.2, 0.4, 0.8, 1.3, 1.7, 1.7, 1.5, 1.1, 1.1, 1.4, 1.4, 1.3, 1.2, 1.4, 1.6, 1.6, 1.3, 0.8, 0.4];
  const mean = raw.reduce((a, b) => a + b, 0) / raw.length;
  return raw.map((x) => x / mean);
})();
const PROFILE_MAX = Math.max(...HOURLY_PROFILE);
const SHANGHAI_OFFSET_MS = 8 * 3600_000;

export function hourInShanghai(ms: number): number {
  return new Date(ms + SHANGHAI_OFFSET_MS).getUTCHours();
}

/** The next complaint after `from` (thinning a Poisson process of rate perHour × profile). */
export function nextComplaintAt(from: number, rng: Rng, perHour: number): number {
  if (perHour <= 0) return Infinity;
  let t = from;
  for (;;) {
    t += rng.exponential(3600_000 / (perHour * PROFILE_MAX));
    if (rng.next() * PROFILE_MAX < (HOURLY_PROFILE[hourInShanghai(t)] ?? 1)) return Math.round(t);
  }
}

const COMPLAINTS: readonly (readonly [{ category: string; text: string }, number])[] = [
  [{ category: 'noise', text: '楼上装修噪音，晚上十点后还在施工' }, 20],
  [{ category: 'garbage', text: '小区门口垃圾桶满溢，好几天没人清运' }, 20],
  [{ category: 'parking', text: '车辆长期占用消防通道' }, 14],
  [{ category: 'drain', text: '下水道堵塞，污水漫到路面' }, 10],
  [{ category: 'streetlight', text: '路灯坏了好几天，晚上很黑' }, 10],
  [{ category: 'road', text: '路面坑洼，电动车容易摔倒' }, 8],
  [{ category: 'dispute', text: '楼上漏水到我家，协商不成' }, 8],
  [{ category: 'hazard', text: '有人在楼道里给电动车充电，有火灾隐患' }, 6],
  [{ category: 'other', text: '小区健身器材损坏' }, 4],
];

export type PlaceKind = 'inside' | 'border' | 'outside';

export interface Complaint {
  category: string;
  description: string;
  lat: number;
  lon: number;
  name: string;
  phone: string;
  priority?: 'high';
  /** Where the point was drawn (for the tests and the KPIs; not sent). */
  place: PlaceKind;
}

function gridPolygons(district: DemoDistrict): Polygon[] {
  return district.regions.features.filter((f) => f.properties.level === 'grid').map((f) => f.geometry);
}

function districtPolygon(district: DemoDistrict): Polygon {
  const f = district.regions.features.find((x) => x.properties.level === 'district');
  if (!f) throw new Error('district has no district-level region');
  return f.geometry;
}

/** A point on a random edge of the ring, by exact interpolation between two shared vertices. */
function onEdge(ring: readonly Position[], rng: Rng): { p: LatLon; a: LatLon; b: LatLon } {
  const i = rng.int(0, ring.length - 2);
  const [ax = 0, ay = 0] = ring[i] ?? [];
  const [bx = 0, by = 0] = ring[i + 1] ?? [];
  const u = rng.float(0.1, 0.9);
  return { p: { lat: ay + (by - ay) * u, lon: ax + (bx - ax) * u }, a: { lat: ay, lon: ax }, b: { lat: by, lon: bx } };
}

/** Where a complaint is about. */
export function complaintPlace(
  district: DemoDistrict,
  rng: Rng,
  o: ResidentBehaviourOptions = DEFAULT_RESIDENT_BEHAVIOUR,
): { p: LatLon; kind: PlaceKind } {
  const x = rng.next();
  if (x < o.outsideShare) {
    const outer = districtPolygon(district);
    for (let k = 0; k < 50; k++) {
      const { p, a, b } = onEdge(outer.coordinates[0] ?? [], rng);
      const d = toLocal(a, b);
      const len = Math.hypot(d.x, d.y) || 1;
      const m = rng.float(o.outsideM[0], o.outsideM[1]);
      // Counter-clockwise exterior: outward is to the right of the edge's direction.
      const q = fromLocal(p, (d.y / len) * m, (-d.x / len) * m);
      if (!insidePolygon(q, outer)) return { p: q, kind: 'outside' };
    }
  }
  const grids = gridPolygons(district);
  const grid = rng.pick(grids);
  if (x < o.outsideShare + o.borderShare) {
    const outer = districtPolygon(district);
    // An edge shared with a neighbour grid: the district lies on both sides of it (2 m off its middle).
    for (let k = 0; k < 50; k++) {
      const { p, a, b } = onEdge(rng.pick(grids).coordinates[0] ?? [], rng);
      const mid = { lat: (a.lat + b.lat) / 2, lon: (a.lon + b.lon) / 2 };
      const d = toLocal(a, b);
      const len = Math.hypot(d.x, d.y) || 1;
      const side = (m: number): LatLon => fromLocal(mid, (d.y / len) * m, (-d.x / len) * m);
      if (insidePolygon(side(2), outer) && insidePolygon(side(-2), outer)) return { p, kind: 'border' };
    }
  }
  return { p: samplePointIn(grid, rng, 5), kind: 'inside' };
}

export function newComplaint(district: DemoDistrict, rng: Rng, o: ResidentBehaviourOptions = DEFAULT_RESIDENT_BEHAVIOUR): Complaint {
  const what = rng.weighted(COMPLAINTS);
  const { p, kind } = complaintPlace(district, rng, o);
  const phone = `1${rng.pick(['35', '38', '39', '58', '86', '88'])}${String(rng.int(0, 99_999_999)).padStart(8, '0')}`;
  return {
    category: what.category,
    description: what.text,
    lat: round7(p.lat),
    lon: round7(p.lon),
    name: personName(rng),
    phone,
    ...(what.category === 'hazard' ? { priority: 'high' as const } : {}),
    place: kind,
  };
}

export type RatingDecision = { kind: 'silent' } | { kind: 'rate'; score: number; comment?: string };

const SATISFIED: readonly (readonly [number, number])[] = [
  [5, 55],
  [4, 30],
  [3, 15],
];
const UNSATISFIED_COMMENTS = ['问题没有解决，又出现了', '处理太慢，态度敷衍', '现场根本没人来看过'];

/** How a resident rates a resolved case; `round` counts earlier ratings of the same complaint. */
export function ratingFor(round: number, rng: Rng, o: ResidentBehaviourOptions = DEFAULT_RESIDENT_BEHAVIOUR): RatingDecision {
  if (round === 0 && rng.chance(o.silentShare)) return { kind: 'silent' };
  // Twice unhappy is the most a case sees here; a third round always ends it.
  const unhappy = round >= 2 ? 0 : round === 0 ? o.unsatisfiedShare : o.unsatisfiedAgainShare;
  if (rng.chance(unhappy))
    return {
      kind: 'rate',
      score: rng.weighted([
        [1, 40],
        [2, 60],
      ]),
      comment: rng.pick(UNSATISFIED_COMMENTS),
    };
  return { kind: 'rate', score: rng.weighted(SATISFIED) };
}
