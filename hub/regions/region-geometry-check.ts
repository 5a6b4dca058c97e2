// Geometric checks of a region tree: same-level regions that overlap (an exact intersection area,
// via @turf/intersect + @turf/area), children reaching outside their parent (exact, same way), and
// parts of a parent covered by no child. Gaps are APPROXIMATED: first by AREA SUMS, which can only
// rule a gap out — gap ≤ area(parent) − Σ area(child ∩ parent) + Σ area(child ∩ sibling) (Bonferroni)
// — and where that bound leaves room, BY SAMPLING: a lattice of points over the parent, each point
// inside the parent and inside no child standing for one lattice cell of gap. Sampling says where
// the gap is; gaps narrower than the lattice spacing can slip through (floor 5 m, under GPS error).
// Why it matters: the drain on the border of two streets that nobody accepted (seed 000) — a gap or
// an overlap on a border is exactly where ownership goes missing or doubles (DESIGN §4).
import type { Feature, MultiPolygon, Polygon } from 'geojson';
import Flatbush from 'flatbush';
import { area } from '@turf/area';
import { intersect } from '@turf/intersect';
import { booleanPointInPolygon } from '@turf/boolean-point-in-polygon';
import { bboxOf, closeRings, localProjection, ringIsClosed, ringsOf, type BBox } from './geo-measure.js';
import { problem, type Problem } from './region-problems.js';
import type { Region, RegionTree } from './region-tree.js';

export interface GeometryCheckOptions {
  /** Overlaps and outside-parent areas below this are digitising noise on a shared edge. Default 1 m². */
  minAreaM2?: number;
  /** Upper bound of lattice points per parent (cost bound). Default 20,000. */
  maxSamplesPerParent?: number;
  /** Finest lattice spacing in metres. Default 5 m. */
  minSpacingM?: number;
}

interface Shape {
  region: Region;
  geometry: Polygon | MultiPolygon;
  box: BBox;
}

export function checkRegionGeometry(tree: RegionTree, options: GeometryCheckOptions = {}): Problem[] {
  const minArea = options.minAreaM2 ?? 1;
  const shapes = new Map<string, Shape>();
  for (const r of tree.regions) {
    // Regions with a degenerate ring are already reported; measuring them would only add noise.
    const usable = ringsOf(r.geometry).every((ring) => (ringIsClosed(ring) ? ring.length - 1 : ring.length) >= 3);
    if (!usable) continue;
    const geometry = closeRings(r.geometry);
    shapes.set(r.code, { region: r, geometry, box: bboxOf(geometry) });
  }
  const areas: AreaSums = { inside: new Map(), siblingOverlap: new Map() };
  return [
    ...findOverlaps([...shapes.values()], minArea, areas),
    ...findOutsideParent(tree, shapes, minArea, areas),
    ...findGaps(tree, shapes, options, areas),
  ];
}

/** Exact areas gathered on the way, so most parents are cleared of gaps without sampling. */
interface AreaSums {
  /** area(child ∩ parent) by child code */
  inside: Map<string, number>;
  /** Σ area(child ∩ sibling) over sibling pairs, by parent code */
  siblingOverlap: Map<string, number>;
}

function feature(geometry: Polygon | MultiPolygon): Feature<Polygon | MultiPolygon> {
  return { type: 'Feature', properties: {}, geometry };
}

/** The common part, null when none, undefined when polyclip refused the input (degenerate rings). */
function intersectionOf(a: Shape, b: Shape): Feature<Polygon | MultiPolygon> | null | undefined {
  try {
    return intersect({ type: 'FeatureCollection', features: [feature(a.geometry), feature(b.geometry)] });
  } catch {
    return undefined;
  }
}

function findOverlaps(all: readonly Shape[], minArea: number, areas: AreaSums): Problem[] {
  const out: Problem[] = [];
  const byLevel = new Map<string, Shape[]>();
  for (const s of all) byLevel.set(s.region.level, [...(byLevel.get(s.region.level) ?? []), s]);
  for (const shapes of byLevel.values()) {
    // Sorted by code so each pair is reported once, lower code first, whatever the file order.
    shapes.sort((a, b) => (a.region.code < b.region.code ? -1 : 1));
    const index = new Flatbush(shapes.length);
    for (const s of shapes) index.add(s.box.minLon, s.box.minLat, s.box.maxLon, s.box.maxLat);
    index.finish();
    shapes.forEach((a, i) => {
      for (const j of index.search(a.box.minLon, a.box.minLat, a.box.maxLon, a.box.maxLat).sort((x, y) => x - y)) {
        if (j <= i) continue;
        const b = shapes[j];
        // Boxes that only touch (edge neighbours on a lattice) cannot share area: skip polyclip,
        // which costs ~0.5 ms a pair and dominates a city-sized import.
        if (
          Math.min(a.box.maxLon, b.box.maxLon) <= Math.max(a.box.minLon, b.box.minLon) ||
          Math.min(a.box.maxLat, b.box.maxLat) <= Math.max(a.box.minLat, b.box.minLat)
        )
          continue;
        const common = intersectionOf(a, b);
        // Unknown (refused) counts as unbounded, so the parent's gap check falls back to sampling.
        const m2 = common === undefined ? Infinity : common ? area(common) : 0;
        const parent = a.region.parent;
        if (parent !== null && parent === b.region.parent) areas.siblingOverlap.set(parent, (areas.siblingOverlap.get(parent) ?? 0) + m2);
        if (!common || m2 < minArea) continue;
        const box = bboxOf(common.geometry);
        out.push(
          problem(
            'overlap',
            'error',
            a.region.code,
            `${a.region.code} 与 ${b.region.code} 重叠约 ${Math.round(m2)} 平方米`,
            `${a.region.code} overlaps ${b.region.code} by about ${Math.round(m2)} m²`,
            b.region.code,
            [(box.minLon + box.maxLon) / 2, (box.minLat + box.maxLat) / 2],
            m2,
          ),
        );
      }
    });
  }
  return out;
}

function findOutsideParent(tree: RegionTree, shapes: ReadonlyMap<string, Shape>, minArea: number, areas: AreaSums): Problem[] {
  const out: Problem[] = [];
  for (const r of tree.regions) {
    const child = shapes.get(r.code);
    const parent = r.parent === null ? undefined : shapes.get(r.parent);
    if (!child || !parent) continue;
    const inside = intersectionOf(child, parent);
    if (inside === undefined) continue; // unmeasurable: no claim either way; the gap sampling still runs
    const insideM2 = inside ? area(inside) : 0;
    areas.inside.set(r.code, insideM2);
    const outside = area(feature(child.geometry)) - insideM2;
    if (outside < minArea) continue;
    out.push(
      problem(
        'outside_parent',
        'error',
        r.code,
        `${r.code} 约 ${Math.round(outside)} 平方米在上级 ${parent.region.code} 之外`,
        `about ${Math.round(outside)} m² of ${r.code} lies outside its parent ${parent.region.code}`,
        parent.region.code,
        undefined,
        outside,
      ),
    );
  }
  return out;
}

function findGaps(tree: RegionTree, shapes: ReadonlyMap<string, Shape>, options: GeometryCheckOptions, areas: AreaSums): Problem[] {
  const minArea = options.minAreaM2 ?? 1;
  const maxSamples = options.maxSamplesPerParent ?? 20_000;
  const minSpacing = options.minSpacingM ?? 5;
  const out: Problem[] = [];
  for (const r of tree.regions) {
    const parent = shapes.get(r.code);
    const kids = (tree.children.get(r.code) ?? []).map((c) => shapes.get(c)).filter((s): s is Shape => !!s);
    if (!parent || kids.length === 0) continue;
    const covered = kids.reduce((sum, k) => sum + (areas.inside.get(k.region.code) ?? 0), 0);
    const gapBound = area(feature(parent.geometry)) - covered + (areas.siblingOverlap.get(r.code) ?? 0);
    // The area sums prove full cover (overlaps are only measured within a level, hence the guard).
    const oneLevel = kids.every((k) => k.region.level === kids[0].region.level);
    if (oneLevel && gapBound < minArea) continue;
    const { box } = parent;
    const proj = localProjection((box.minLat + box.maxLat) / 2);
    const widthM = proj.x(box.maxLon) - proj.x(box.minLon);
    const heightM = proj.y(box.maxLat) - proj.y(box.minLat);
    const spacing = Math.max(minSpacing, Math.sqrt((widthM * heightM) / maxSamples));
    const nx = Math.max(1, Math.round(widthM / spacing));
    const ny = Math.max(1, Math.round(heightM / spacing));
    const stepLon = (box.maxLon - box.minLon) / nx;
    const stepLat = (box.maxLat - box.minLat) / ny;
    let hits = 0;
    let first: [number, number] | undefined;
    for (let iy = 0; iy < ny; iy++) {
      const lat = box.minLat + (iy + 0.5) * stepLat; // cell centres: never exactly on a lattice-aligned edge
      for (let ix = 0; ix < nx; ix++) {
        const lon = box.minLon + (ix + 0.5) * stepLon;
        if (!booleanPointInPolygon([lon, lat], parent.geometry)) continue;
        const inChild = kids.some(
          (k) =>
            lon >= k.box.minLon &&
            lon <= k.box.maxLon &&
            lat >= k.box.minLat &&
            lat <= k.box.maxLat &&
            booleanPointInPolygon([lon, lat], k.geometry),
        );
        if (inChild) continue;
        hits++;
        first ??= [lon, lat];
      }
    }
    if (hits === 0 || !first) continue;
    const cellM2 = (widthM / nx) * (heightM / ny);
    const m2 = hits * cellM2;
    out.push(
      problem(
        'gap',
        'error',
        r.code,
        `${r.code} 内约 ${Math.round(m2)} 平方米不属于任何下级区划（抽样估计）`,
        `about ${Math.round(m2)} m² inside ${r.code} belongs to none of its children (sampled estimate)`,
        undefined,
        first,
        m2,
      ),
    );
  }
  return out;
}
