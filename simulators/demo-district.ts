// A demo district near Zhuzhou, built purely from a seed: regions (GeoJSON), people, their handsets,
// door-access devices and cameras. Same seed and size, same district, byte for byte.
//
// Shape of the tree (DESIGN §1): 1 district → streets (街道) → 2-3 communities (社区) each →
// 3-4 grids (网格) each. Three streets (~30 grids) by default; more streets are added until every
// requested handset has a person to carry it.
import { createHmac } from 'node:crypto';
import type { Feature, FeatureCollection, Polygon } from 'geojson';
import type { Config } from '../common/config.js';
import type { NewWorker } from '../storage/device-store.js';
import type { DeviceProtocol } from '../protocol/device-api.js';
import type { WorkerRole } from '../protocol/worker-roles.js';
import type { LevelToGrid } from '../protocol/region-levels.js';
import { COMMUNITY_NAMES, COMPOUND_NAMES, DEPARTMENTS, DISTRICT, STREET_NAMES, cnNumber, nthName, personName } from './demo-names.js';
import { round7, samplePointIn } from './geo-local.js';
import { Lattice, latticeSize, serpentineCells, type Cell } from './region-lattice.js';
import { createRng, type Rng } from './rng.js';

/** The demo district has no units or cells: its tree stops at the grid. */
export type RegionLevel = LevelToGrid;
/** Feature properties of the region GeoJSON; the region importer reads exactly these. */
export interface RegionProps {
  code: string;
  parent: string | null;
  level: RegionLevel;
  name: string;
}
export type RegionFeature = Feature<Polygon, RegionProps>;

/** The demo district has no street command centre staff: every role but `command`. */
export type DemoRole = Exclude<WorkerRole, 'command'>;
export interface DemoWorker extends NewWorker {
  role: DemoRole;
}
export interface DemoHandset {
  id: string;
  secret: string;
  workerId: string;
  /** The grid this handset patrols. */
  gridCode: string;
  /** What the handset SDK reports in: Chinese SDKs give GCJ-02 (OwnTracks and JT/T 808: WGS-84). */
  crs: 'wgs84' | 'gcj02';
  /** How it talks to the hub: the native MQTT contract, the OwnTracks app, or a JT/T 808 terminal. */
  protocol: DeviceProtocol;
  /** JT/T 808 only: the terminal number (11 digits, a phone number's shape), the registry's protocol_id. */
  terminalNo?: string;
}
export interface DemoFixedDevice {
  id: string;
  kind: 'door' | 'camera';
  secret: string;
  gridCode: string;
  lat: number;
  lon: number;
  name: string;
}
export interface DemoDistrict {
  seed: number;
  regions: FeatureCollection<Polygon, RegionProps>;
  workers: DemoWorker[];
  handsets: DemoHandset[];
  doors: DemoFixedDevice[];
  cameras: DemoFixedDevice[];
}

export interface DemoDistrictOptions {
  seed: number;
  /** Exactly this many handsets are issued (to grid workers first, one per grid, then leaders …). */
  handsets: number;
  minStreets?: number;
  /** Mean door-access devices per grid (in the grid's compound). */
  doorsPerGrid?: number;
  /** Mean cameras per grid. */
  camerasPerGrid?: number;
  center?: { lat: number; lon: number };
  /** Side of one grid cell; ~350 m holds the ~400 households of a city grid. */
  cellM?: number;
  /**
   * A mixed fleet: in every run of this many handsets (in issue order) one is an OwnTracks phone
   * and one a JT/T 808 terminal, at places drawn from the seed. 0 (the default): all native.
   */
  mixEvery?: number;
}

/** `npm start`'s fleet (issue 15 §4): one handset in six speaks OwnTracks, one JT/T 808. */
export const DEMO_MIX_EVERY = 6;

/** Near Zhuzhou's 荷塘区. */
export const ZHUZHOU = { lat: 27.87, lon: 113.12 } as const;

/**
 * DEMO ONLY: a device secret derived from the seed, HMAC-SHA256(key = seed, message = device id),
 * base64url, 22 characters (~128 bits). Anyone who knows the seed knows every secret, so this must
 * never provision real devices; it exists so simulators and the seeded registry agree without
 * sharing a file.
 */
export function demoSecret(seed: number, deviceId: string): string {
  return createHmac('sha256', String(seed)).update(deviceId).digest('base64url').slice(0, 22);
}

export function demoDistrictFromConfig(config: Pick<Config, 'SIM_SEED' | 'SIM_HANDSETS'>): DemoDistrict {
  return buildDemoDistrict({ seed: config.SIM_SEED, handsets: config.SIM_HANDSETS, mixEvery: DEMO_MIX_EVERY });
}

interface PlanCommunity {
  grids: number[]; // grid worker count per grid
}

export function buildDemoDistrict(opts: DemoDistrictOptions): DemoDistrict {
  const { seed, handsets: handsetCount, minStreets = 3, doorsPerGrid = 1, camerasPerGrid = 0.5 } = opts;
  const root = createRng(seed);

  // 1. The tree's shape. Each street draws from its own stream, so adding streets keeps the first ones.
  const plan: PlanCommunity[][] = [];
  let carriers = DEPARTMENTS.length;
  while (plan.length < minStreets || carriers < handsetCount) {
    const rng = root.fork(`street:${plan.length}`);
    const street = Array.from({ length: rng.int(2, 3) }, () => ({ grids: Array.from({ length: rng.int(3, 4) }, () => rng.int(1, 2)) }));
    plan.push(street);
    // Per community: a grid leader and a community police officer, plus the grid workers.
    carriers += street.reduce((s, c) => s + 2 + c.grids.reduce((a, b) => a + b, 0), 0);
  }

  // 2. Geometry: grids are consecutive cells of one serpentine path, parents are runs of it.
  const gridTotal = plan.flat().reduce((s, c) => s + c.grids.length, 0);
  const { rows, cols } = latticeSize(gridTotal);
  const lattice = new Lattice({ rows, cols, center: opts.center ?? ZHUZHOU, cellM: opts.cellM ?? 350, seed });
  const path = serpentineCells(rows, cols);
  const pad = (n: number, width: number): string => String(n).padStart(width, '0');
  const streetWidth = plan.length > 999 ? 4 : 3;
  const names = root.fork('names');
  const streetOrder = names.shuffle(STREET_NAMES.map((_, i) => i));
  const communityOrder = names.shuffle(COMMUNITY_NAMES.map((_, i) => i));

  const features: RegionFeature[] = [];
  const feature = (code: string, parent: string | null, level: RegionLevel, name: string, ring: [number, number][]): RegionFeature => ({
    type: 'Feature',
    id: code,
    properties: { code, parent, level, name },
    geometry: { type: 'Polygon', coordinates: [ring] },
  });
  const districtCells = path.slice(0, gridTotal);
  features.push(feature(DISTRICT.code, null, 'district', DISTRICT.name, lattice.unionRing(districtCells)));

  const workers: DemoWorker[] = [];
  const newWorker = (rng: Rng, role: DemoRole, gridCodes: string[], categories?: string[]): DemoWorker => {
    const w: DemoWorker = {
      id: `w-${pad(workers.length + 1, 4)}`,
      name: personName(rng),
      role,
      gridCodes,
      ...(categories ? { categories } : {}),
    };
    workers.push(w);
    return w;
  };
  // Department staff answer for the whole district, for their own categories; listed first so
  // their ids stay put when the district grows.
  const peopleRng = root.fork('people');
  const staff = DEPARTMENTS.map((d) =>
    Object.assign(newWorker(peopleRng, 'department_staff', [], [...d.categories]), { department: d.name }),
  );

  const gridFeatures: RegionFeature[] = [];
  const firstWorkers: DemoWorker[] = [];
  const secondWorkers: DemoWorker[] = [];
  const leaders: DemoWorker[] = [];
  const police: DemoWorker[] = [];
  let next = 0;
  let communityIndex = 0;
  plan.forEach((street, s) => {
    const streetCode = `${DISTRICT.code}${pad(s + 1, streetWidth)}`;
    const streetStart = next;
    const streetFeatures: RegionFeature[] = [];
    street.forEach((community, c) => {
      const communityCode = `${streetCode}${pad(c + 1, 3)}`;
      const communityName = nthName(COMMUNITY_NAMES, communityOrder, communityIndex++);
      const cells: Cell[] = path.slice(next, next + community.grids.length);
      streetFeatures.push(feature(communityCode, streetCode, 'community', `${communityName}社区`, lattice.unionRing(cells)));
      const rng = peopleRng.fork(communityCode);
      const codes = community.grids.map((_, g) => `${communityCode}${pad(g + 1, 3)}`);
      community.grids.forEach((workerCount, g) => {
        const code = codes[g] as string;
        gridFeatures.push(
          feature(code, communityCode, 'grid', `${communityName}社区第${cnNumber(g + 1)}网格`, lattice.cellRing(path[next + g] as Cell)),
        );
        firstWorkers.push(newWorker(rng, 'grid_worker', [code]));
        if (workerCount > 1) secondWorkers.push(newWorker(rng, 'grid_worker', [code]));
      });
      leaders.push(newWorker(rng, 'grid_leader', codes));
      // Category codes as in the hub's table; `door.*` covers every door alert type.
      police.push(newWorker(rng, 'community_police', codes, ['dispute', 'noise', 'door.*', 'camera.*']));
      next += community.grids.length;
    });
    const name = `${nthName(STREET_NAMES, streetOrder, s)}街道`;
    features.push(feature(streetCode, DISTRICT.code, 'street', name, lattice.unionRing(path.slice(streetStart, next))));
    features.push(...streetFeatures);
  });
  // Parents before children: streets and communities were pushed in tree order, grids go last.
  const ordered = [
    ...features.filter((f) => f.properties.level === 'district'),
    ...features.filter((f) => f.properties.level === 'street'),
    ...features.filter((f) => f.properties.level === 'community'),
    ...gridFeatures,
  ];
  const gridPolygons = new Map(gridFeatures.map((f) => [f.properties.code, f.geometry]));
  const gridCodes = gridFeatures.map((f) => f.properties.code);

  // 3. Handsets: one per grid first (the moving dots that matter), then leaders, second grid workers,
  // police, staff. People beyond the handset count simply carry none.
  const carriersInOrder = [...firstWorkers, ...leaders, ...secondWorkers, ...police, ...staff].slice(0, handsetCount);
  const protocols = fleetProtocols(root.fork('fleet'), carriersInOrder.length, opts.mixEvery ?? 0);
  const handsets: DemoHandset[] = carriersInOrder.map((w, i) => {
    const id = `hs-${pad(i + 1, 4)}`;
    const rng = root.fork(`handset:${id}`);
    const own = w.gridCodes.length > 0 ? w.gridCodes : gridCodes;
    const gridCode = own.length === 1 ? (own[0] as string) : rng.pick(own);
    // Drawn for every handset, so the mix leaves the native handsets' draws as they were.
    const gcj = rng.chance(0.3);
    const protocol = protocols[i] ?? 'native';
    if (protocol === 'native')
      return { id, secret: demoSecret(seed, id), workerId: w.id, gridCode, crs: gcj ? 'gcj02' : 'wgs84', protocol };
    // OwnTracks phones (CoreLocation, Android's providers) and JT/T 808 GNSS modules report WGS-84.
    const h: DemoHandset = { id, secret: demoSecret(seed, id), workerId: w.id, gridCode, crs: 'wgs84', protocol };
    if (protocol === 'jt808') h.terminalNo = `139${pad(i + 1, 8)}`;
    return h;
  });

  // 4. Fixed devices: door access at the gates of a compound in the grid, cameras on its streets.
  const doors: DemoFixedDevice[] = [];
  const cameras: DemoFixedDevice[] = [];
  const compoundOrder = names.shuffle(COMPOUND_NAMES.map((_, i) => i));
  const gates = ['东门', '西门', '南门', '北门'] as const;
  const spots = ['路口', '广场', '菜市场', '河堤', '停车场', '学校门口', '公园'] as const;
  gridCodes.forEach((code, g) => {
    const rng = root.fork(`fixed:${code}`);
    const polygon = gridPolygons.get(code) as Polygon;
    const compound = nthName(COMPOUND_NAMES, compoundOrder, g);
    const nDoors = Math.min(gates.length, countAround(rng, doorsPerGrid));
    for (let k = 0; k < nDoors; k++) {
      const id = `door-${pad(doors.length + 1, 4)}`;
      const p = samplePointIn(polygon, rng, 10);
      doors.push({
        id,
        kind: 'door',
        secret: demoSecret(seed, id),
        gridCode: code,
        lat: round7(p.lat),
        lon: round7(p.lon),
        name: `${compound}${gates[k]}门禁`,
      });
    }
    const nCams = countAround(rng, camerasPerGrid);
    for (let k = 0; k < nCams; k++) {
      const id = `cam-${pad(cameras.length + 1, 4)}`;
      const p = samplePointIn(polygon, rng, 10);
      cameras.push({
        id,
        kind: 'camera',
        secret: demoSecret(seed, id),
        gridCode: code,
        lat: round7(p.lat),
        lon: round7(p.lon),
        name: `${gridFeatures[g]?.properties.name ?? ''}${rng.pick(spots)}摄像头`,
      });
    }
  });

  return { seed, regions: { type: 'FeatureCollection', features: ordered }, workers, handsets, doors, cameras };
}

/**
 * Which protocol each handset speaks: in every block of `every` handsets, two places drawn from the
 * seed hold one OwnTracks phone and one JT/T 808 terminal. Blocks rather than a coin per handset, so
 * even a 12-handset demo has both kinds, spread over the grids (handsets are issued grid by grid).
 */
function fleetProtocols(rng: Rng, count: number, every: number): DeviceProtocol[] {
  const out: DeviceProtocol[] = Array.from({ length: count }, () => 'native');
  if (every < 2) return out;
  for (let start = 0; start < count; start += every) {
    const [a, b] = rng.shuffle(Array.from({ length: every }, (_, k) => k));
    if (a !== undefined && start + a < count) out[start + a] = 'owntracks';
    if (b !== undefined && start + b < count) out[start + b] = 'jt808';
  }
  return out;
}

/** An integer count with the given mean, varying ±50 % around it (floor(X + U) has mean E[X]). */
function countAround(rng: Rng, mean: number): number {
  return Math.floor(mean * rng.float(0.5, 1.5) + rng.next());
}

/** The polygon of one region of the district; throws for an unknown code. */
export function regionPolygon(district: DemoDistrict, code: string): Polygon {
  const f = district.regions.features.find((x) => x.properties.code === code);
  if (!f) throw new Error(`unknown region ${code}`);
  return f.geometry;
}
