// A hand-computed incident history for the KPI tests, inserted as rows (the dispatch service is
// not involved). Regions: D → S1 → C1 → G1, G2; D → S2 → C2 → G3; and a second district D2 → GX.
// Times are Asia/Shanghai hours of 2026-10-20 (H(24+h) is the next day). The expected figures are
// worked out in kpi-suite.ts next to each assertion.
import type pg from 'pg';
import { upsertDevices, upsertWorkers } from '../../../storage/device-store.js';
import { shanghaiDayStart } from '../../../hub/analytics/coverage-cells.js';

export const DATE = '2026-10-20';
export const DAY = shanghaiDayStart(DATE);
export const H = (hour: number, min = 0) => DAY + hour * 3_600_000 + min * 60_000;
export const MIN = 60_000;
export const HOUR = 3_600_000;

/** Two res-10 hotspot cells' worth of places. */
export const PLACE_A = { lat: 27.87, lon: 113.12 };
export const PLACE_B = { lat: 27.88, lon: 113.13 };

const square = (x: number, y: number) =>
  JSON.stringify({
    type: 'Polygon',
    coordinates: [
      [
        [x, y],
        [x + 0.01, y],
        [x + 0.01, y + 0.01],
        [x, y + 0.01],
        [x, y],
      ],
    ],
  });

export async function seedRegionsAndPeople(pool: pg.Pool): Promise<void> {
  const regions: [string, string | null, string, string][] = [
    ['D', null, 'district', '石峰区'],
    ['S1', 'D', 'street', '一街道'],
    ['S2', 'D', 'street', '二街道'],
    ['C1', 'S1', 'community', '一社区'],
    ['C2', 'S2', 'community', '二社区'],
    ['G1', 'C1', 'grid', '一网格'],
    ['G2', 'C1', 'grid', '二网格'],
    ['G3', 'C2', 'grid', '三网格'],
    ['D2', null, 'district', '别区'],
    ['GX', 'D2', 'grid', '别区网格'],
  ];
  for (const [i, [code, parent, level, name]] of regions.entries()) {
    await pool.query(`INSERT INTO regions (code, parent_code, level, name, geometry) VALUES ($1, $2, $3, $4, $5)`, [
      code,
      parent,
      level,
      name,
      square(113 + i * 0.01, 27.8),
    ]);
  }
  await pool.query(
    `INSERT INTO incident_categories (code, name_zh, name_en, default_priority, tier, deadlines) VALUES
       ('garbage', '垃圾堆放', 'Garbage', 'normal', 'grid', '{}'),
       ('drain', '排水不畅', 'Drain', 'normal', 'community', '{}'),
       ('parking', '违章停车', 'Parking', 'low', 'grid', '{}')
     ON CONFLICT (code) DO NOTHING`,
  );
  await upsertWorkers(pool, [
    { id: 'w1', name: '网格员一', role: 'grid_worker', gridCodes: ['G1'] },
    { id: 'w2', name: '网格员二', role: 'grid_worker', gridCodes: ['G3'] },
    { id: 'w3', name: '网格员三', role: 'grid_worker', gridCodes: ['G2'] },
    { id: 'd1', name: '城管甲', role: 'department_staff', gridCodes: [] },
    { id: 'd2', name: '住建乙', role: 'department_staff', gridCodes: [] },
  ]);
  await pool.query(`UPDATE workers SET department = '城管' WHERE id = 'd1'`);
  await pool.query(`UPDATE workers SET department = '住建' WHERE id = 'd2'`);
  await upsertDevices(
    pool,
    ['w1', 'w2', 'w3', 'd1'].map((w) => ({ id: `hs-${w}`, kind: 'handset' as const, secret: `secret-hs-${w}-0123456789`, workerId: w })),
  );
}

export interface IncidentSeed {
  id: string;
  grid: string;
  category: string;
  source: 'device_alert' | 'patrol_report' | 'resident' | 'operator';
  priority?: 'low' | 'normal' | 'high' | 'urgent';
  state: string;
  created: number;
  /** Minutes after creation; null when not reached. */
  accepted?: number;
  arrived?: number;
  resolved?: number;
  closed?: number;
  resolveByH?: number;
  assignee?: string;
  rating?: 'satisfied' | 'unsatisfied';
  score?: number;
  overdue?: string[];
  place?: { lat: number; lon: number };
  updated?: number;
}

export async function insertIncidents(pool: pg.Pool, seeds: IncidentSeed[]): Promise<void> {
  for (const s of seeds) {
    const at = (m: number | undefined) => (m === undefined ? null : new Date(s.created + m * MIN));
    const place = s.place ?? PLACE_A;
    await pool.query(
      `INSERT INTO incidents (id, source, category, priority, lat, lon, grid_code, state, version, assignee_id,
                              rating, rating_score, created_at, updated_at, sla_started_at,
                              accept_by, arrive_by, resolve_by, accepted_at, arrived_at, resolved_at, closed_at, overdue_stages)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $10, $11, $12, $13, $12,
               $12::timestamptz + interval '30 minutes', $12::timestamptz + interval '2 hours', $14, $15, $16, $17, $18, $19)`,
      [
        s.id,
        s.source,
        s.category,
        s.priority ?? 'normal',
        place.lat,
        place.lon,
        s.grid,
        s.state,
        s.assignee ?? null,
        s.rating ?? null,
        s.score ?? null,
        new Date(s.created),
        new Date(s.updated ?? s.created),
        new Date(s.created + (s.resolveByH ?? 24) * HOUR),
        at(s.accepted),
        at(s.arrived),
        at(s.resolved),
        at(s.closed),
        s.overdue ?? [],
      ],
    );
  }
}

/**
 * 2026-10-20 in D: six incidents, one cancelled. I1 at 07:00 Shanghai is 23:00 UTC the day
 * before, so a UTC day would put it on the 19th.
 */
export const DAY_INCIDENTS: IncidentSeed[] = [
  {
    id: 'I1',
    grid: 'G1',
    category: 'garbage',
    source: 'patrol_report',
    state: 'closed',
    created: H(7),
    accepted: 10,
    arrived: 30,
    resolved: 120,
    closed: 180,
    assignee: 'w1',
    rating: 'satisfied',
    score: 5,
  },
  {
    id: 'I2',
    grid: 'G1',
    category: 'drain',
    source: 'resident',
    priority: 'high',
    state: 'closed',
    created: H(9),
    accepted: 20,
    arrived: 60,
    resolved: 27 * 60,
    closed: 28 * 60,
    assignee: 'd1',
    rating: 'unsatisfied',
    score: 2,
    overdue: ['resolve'],
  },
  {
    id: 'I3',
    grid: 'G2',
    category: 'garbage',
    source: 'device_alert',
    state: 'accepted',
    created: H(10),
    accepted: 30,
    assignee: 'w1',
    place: PLACE_B,
  },
  { id: 'I4', grid: 'G3', category: 'parking', source: 'resident', priority: 'low', state: 'reported', created: H(12), place: PLACE_B },
  { id: 'I5', grid: 'G3', category: 'garbage', source: 'operator', state: 'cancelled', created: H(13), place: PLACE_B },
  {
    id: 'I6',
    grid: 'G3',
    category: 'drain',
    source: 'patrol_report',
    priority: 'urgent',
    state: 'resolved',
    created: H(14),
    accepted: 40,
    arrived: 60,
    resolved: 240,
    assignee: 'd2',
  },
];

/** Outside the day (the 19th, and 1 November 00:30 Shanghai = 31 October UTC) or outside D. */
export const OTHER_INCIDENTS: IncidentSeed[] = [
  {
    id: 'I7',
    grid: 'G1',
    category: 'garbage',
    source: 'patrol_report',
    state: 'closed',
    created: H(-4),
    accepted: 5,
    resolved: 60,
    closed: 90,
    assignee: 'w1',
  },
  { id: 'I9', grid: 'G2', category: 'garbage', source: 'resident', state: 'cancelled', created: Date.parse('2026-11-01T00:30:00+08:00') },
  { id: 'IX', grid: 'GX', category: 'garbage', source: 'resident', state: 'reported', created: H(11) },
];
