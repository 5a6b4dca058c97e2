// The geometry of the demo district: one jittered lattice of vertices, every grid one lattice cell,
// every parent the union of its cells traced over the SAME vertices. Neighbours therefore share
// edges exactly (identical coordinates), and a parent is exactly the union of its children: what a
// real region import must also guarantee for "every point belongs to exactly one grid" (DESIGN §4).
import { round7 } from './geo-local.js';
import { createRng, hash32 } from './rng.js';

export type LonLat = [number, number];
export interface Cell {
  row: number;
  col: number;
}

/** Metres per degree of latitude; longitude degrees shrink by cos(lat). Plenty for a few km. */
const M_PER_DEG_LAT = 111_320;
/**
 * Vertices move at most this fraction of a cell in each axis. Below ~0.25 every quadrilateral stays
 * convex (a corner would have to cross its neighbours' diagonal, 0.707 cells away), which lets a
 * patrol walk straight between two inside points without leaving its grid.
 */
const JITTER = 0.18;

export interface LatticeOptions {
  rows: number;
  cols: number;
  center: { lat: number; lon: number };
  cellM: number;
  seed: number;
}

export class Lattice {
  private readonly vertices = new Map<string, LonLat>();
  constructor(private readonly o: LatticeOptions) {}

  get rows(): number {
    return this.o.rows;
  }
  get cols(): number {
    return this.o.cols;
  }

  /** Vertex (r, c), r = 0 the northern edge. Each vertex has its own seeded jitter, cached. */
  vertex(r: number, c: number): LonLat {
    const key = `${r},${c}`;
    const hit = this.vertices.get(key);
    if (hit) return hit;
    const { rows, cols, center, cellM, seed } = this.o;
    const rng = createRng(hash32(`${seed}:vertex:${key}`));
    const x = (c - cols / 2 + rng.float(-JITTER, JITTER)) * cellM;
    const y = (rows / 2 - r + rng.float(-JITTER, JITTER)) * cellM;
    const lat = center.lat + y / M_PER_DEG_LAT;
    const lon = center.lon + x / (M_PER_DEG_LAT * Math.cos((center.lat * Math.PI) / 180));
    // 7 decimals (~1 cm): short JSON that round-trips through jsonb to the same numbers.
    const v: LonLat = [round7(lon), round7(lat)];
    this.vertices.set(key, v);
    return v;
  }

  /** Corner vertex keys of a cell, counter-clockwise (RFC 7946 exterior ring order): SW, SE, NE, NW. */
  private cellCorners({ row, col }: Cell): [number, number][] {
    return [
      [row + 1, col],
      [row + 1, col + 1],
      [row, col + 1],
      [row, col],
    ];
  }

  /** Closed exterior ring of one cell. */
  cellRing(cell: Cell): LonLat[] {
    const ring = this.cellCorners(cell).map(([r, c]) => this.vertex(r, c));
    return [...ring, ring[0] as LonLat];
  }

  /**
   * Closed exterior ring of the union of cells. Interior edges come once in each direction and cancel;
   * the rest chain into the outline. Throws unless the union is one ring without pinch points, which
   * the serpentine layout below guarantees for any run of consecutive cells.
   */
  unionRing(cells: readonly Cell[]): LonLat[] {
    const edges = new Set<string>();
    for (const cell of cells) {
      const corners = this.cellCorners(cell).map(([r, c]) => `${r},${c}`);
      for (let i = 0; i < 4; i++) edges.add(`${corners[i]}>${corners[(i + 1) % 4]}`);
    }
    const next = new Map<string, string>();
    for (const e of edges) {
      const [a, b] = e.split('>') as [string, string];
      if (edges.has(`${b}>${a}`)) continue;
      if (next.has(a)) throw new Error(`unionRing: pinch point at vertex ${a}`);
      next.set(a, b);
    }
    const first = next.keys().next().value;
    if (first === undefined) throw new Error('unionRing: no cells');
    const keys: string[] = [first];
    for (let k = next.get(first); k !== first; k = next.get(k)) {
      if (k === undefined || keys.length > next.size) throw new Error('unionRing: open outline');
      keys.push(k);
    }
    if (keys.length !== next.size) throw new Error('unionRing: union has more than one ring (hole or gap)');
    const ring = keys.map((k) => {
      const [r, c] = k.split(',').map(Number) as [number, number];
      return this.vertex(r, c);
    });
    return [...ring, ring[0] as LonLat];
  }
}

/**
 * Lattice size for n cells: an odd number of rows (so the serpentine path below closes up from band
 * to band) near sqrt(n), and an even number of columns, in bands two wide.
 */
export function latticeSize(n: number): { rows: number; cols: number } {
  const rows = Math.max(3, 2 * Math.floor(Math.sqrt(n) / 2) + 1);
  const cols = 2 * Math.ceil(n / (2 * rows));
  return { rows, cols };
}

/**
 * Cells in a Hamiltonian path order: bands two columns wide, down the first band, up the next, zig-zag
 * inside each band. Consecutive cells are edge neighbours, so every run of consecutive cells is
 * connected; and no 2x2 block can hold exactly a diagonal pair of a run, so a run's outline has no
 * pinch points; and the cells before and after a run each reach the lattice border, so no holes.
 * Streets, communities and grids are all runs of this path.
 */
export function serpentineCells(rows: number, cols: number): Cell[] {
  if (rows % 2 === 0 || cols % 2 !== 0) throw new Error('serpentineCells: rows must be odd, cols even');
  const out: Cell[] = [];
  for (let band = 0; band < cols / 2; band++) {
    for (let k = 0; k < rows; k++) {
      const row = band % 2 === 0 ? k : rows - 1 - k;
      const left = 2 * band;
      // Rows alternate direction; with an odd row count each band ends on its right column,
      // next to where the following band starts.
      const pair = k % 2 === 0 ? [left, left + 1] : [left + 1, left];
      for (const col of pair) out.push({ row, col });
    }
  }
  return out;
}
