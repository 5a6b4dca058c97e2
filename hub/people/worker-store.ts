// People in the database (DESIGN §4 People): workers with their role, grids, categories, duty
// and current load (open incidents assigned to them). Positions and presence are live state, not
// rows here: the routes merge them in.
import type pg from 'pg';
import { withTransaction } from '../../storage/database-transaction.js';
import { upsertWorkers } from '../../storage/device-store.js';
import { WORKER_ROLES, type WorkerRole } from '../../protocol/worker-roles.js';
import { LOAD_STATES } from '../dispatch/incident-state-machine.js';

type Queryable = Pick<pg.Pool, 'query'>;

export type Duty = 'on' | 'off';

export interface WorkerRecord {
  id: string;
  name: string;
  role: WorkerRole;
  gridCodes: string[];
  categories: string[];
  duty: Duty;
  /** Epoch ms of the last duty change; null if never changed. */
  dutySince: number | null;
  /** Enabled handset carried by the worker, if any. */
  deviceId: string | null;
  load: number;
}

export interface WorkerFilter {
  grid?: string;
  role?: WorkerRole;
  duty?: Duty;
  id?: string;
}

interface WorkerRow {
  id: string;
  name: string;
  role: WorkerRole;
  grid_codes: string[];
  categories: string[];
  duty: Duty;
  duty_since: Date | null;
  device_id: string | null;
  load: number | null;
}

export async function listWorkers(db: Queryable, filter: WorkerFilter = {}): Promise<WorkerRecord[]> {
  // A worker's load counts the states dispatch counts (one rule, hub/dispatch).
  const params: unknown[] = [LOAD_STATES];
  const where: string[] = [];
  if (filter.id !== undefined) where.push(`w.id = $${params.push(filter.id)}`);
  if (filter.grid !== undefined) where.push(`$${params.push(filter.grid)} = ANY(w.grid_codes)`);
  if (filter.role !== undefined) where.push(`w.role = $${params.push(filter.role)}`);
  if (filter.duty !== undefined) where.push(`w.duty = $${params.push(filter.duty)}`);
  const r = await db.query<WorkerRow>(
    `SELECT w.id, w.name, w.role, w.grid_codes, w.categories, w.duty, w.duty_since, h.device_id, l.load
       FROM workers w
       LEFT JOIN (SELECT assignee_id, count(*) AS load FROM incidents
                   WHERE state = ANY($1::text[]) AND assignee_id IS NOT NULL GROUP BY 1) l ON l.assignee_id = w.id
       LEFT JOIN LATERAL (SELECT d.id AS device_id FROM devices d
                           WHERE d.worker_id = w.id AND d.kind = 'handset' AND d.enabled ORDER BY d.id LIMIT 1) h ON true
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY w.id`,
    params,
  );
  return r.rows.map((row) => ({
    id: row.id,
    name: row.name,
    role: row.role,
    gridCodes: row.grid_codes,
    categories: row.categories,
    duty: row.duty,
    dutySince: row.duty_since ? row.duty_since.getTime() : null,
    deviceId: row.device_id,
    load: Number(row.load ?? 0),
  }));
}

export async function findWorker(db: Queryable, id: string): Promise<WorkerRecord | null> {
  return (await listWorkers(db, { id }))[0] ?? null;
}

export interface DutyResult {
  duty: Duty;
  dutySince: number;
  changed: boolean;
}

/**
 * Sets a worker's duty from the API. Also appends a `status` row for the worker's handsets, so the
 * duty log (device_status) stays the one history that live state and duty-sync read: a later
 * handset status then wins, an older buffered one does not.
 */
export async function setWorkerDuty(pool: pg.Pool, id: string, duty: Duty, at: number): Promise<DutyResult | null> {
  return withTransaction(pool, async (client, end) => {
    const cur = await client.query<{ duty: Duty; duty_since: Date | null }>(
      'SELECT duty, duty_since FROM workers WHERE id = $1 FOR UPDATE',
      [id],
    );
    if (cur.rowCount === 0) {
      end.rollback();
      return null;
    }
    const changed = cur.rows[0].duty !== duty;
    const since = changed || !cur.rows[0].duty_since ? new Date(at) : cur.rows[0].duty_since;
    await client.query('UPDATE workers SET duty = $2, duty_since = $3 WHERE id = $1', [id, duty, since]);
    await client.query(
      `INSERT INTO device_status (device_id, ts, kind, duty)
       SELECT d.id, $2, 'status', $3 FROM devices d WHERE d.worker_id = $1 AND d.kind = 'handset' AND d.enabled
       ON CONFLICT (device_id, kind, ts) DO UPDATE SET duty = EXCLUDED.duty`,
      [id, new Date(at), duty],
    );
    return { duty, dutySince: since.getTime(), changed };
  });
}

export interface WorkerInput {
  id: string;
  name: string;
  role: WorkerRole;
  gridCodes: string[];
  categories?: string[];
}

export interface WorkerProblem {
  index: number;
  id: string;
  field: 'id' | 'role' | 'gridCodes' | 'categories';
  value: string;
  messageZh: string;
  messageEn: string;
}

// As dispatch matches them: an exact code, a family ('door.*') or everything ('*').
const CATEGORY = /^(\*|[a-z]+(\.[a-z_]+)*(\.\*)?)$/;

/** Every problem in a bulk upsert, so the whole list can be fixed in one pass. */
export async function checkWorkers(db: Queryable, workers: readonly WorkerInput[]): Promise<WorkerProblem[]> {
  const out: WorkerProblem[] = [];
  const wanted = [...new Set(workers.flatMap((w) => w.gridCodes))];
  const found = await db.query<{ code: string; level: string }>('SELECT code, level FROM regions WHERE code = ANY($1::text[])', [wanted]);
  const levels = new Map(found.rows.map((r) => [r.code, r.level]));
  const seen = new Set<string>();
  workers.forEach((w, index) => {
    const add = (field: WorkerProblem['field'], value: string, zh: string, en: string) =>
      out.push({ index, id: w.id, field, value, messageZh: zh, messageEn: en });
    if (seen.has(w.id)) add('id', w.id, `人员编号 ${w.id} 重复`, `worker id ${w.id} appears twice`);
    seen.add(w.id);
    // The route's schema already checks roles; this keeps the store safe for other callers.
    if (!(WORKER_ROLES as readonly string[]).includes(w.role)) add('role', w.role, `未知角色 ${w.role}`, `unknown role ${w.role}`);
    for (const g of w.gridCodes) {
      const level = levels.get(g);
      if (level === undefined) add('gridCodes', g, `网格 ${g} 不存在`, `grid ${g} does not exist`);
      else if (level !== 'grid') add('gridCodes', g, `${g} 是${level}级区划，不是网格`, `${g} is a ${level}, not a grid`);
    }
    for (const c of w.categories ?? []) {
      if (!CATEGORY.test(c))
        add('categories', c, `事件类别 ${c} 格式错误（如 drain、door.*、*）`, `category ${c} is malformed (e.g. drain, door.*, *)`);
    }
  });
  return out;
}

/** Upserts in one transaction; returns how many were new. Call checkWorkers first. */
export async function saveWorkers(pool: pg.Pool, workers: readonly WorkerInput[]): Promise<{ created: number; updated: number }> {
  return withTransaction(pool, async (client) => {
    const ids = workers.map((w) => w.id);
    const existing = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM workers WHERE id = ANY($1::text[])', [ids]);
    // Chunks keep one statement's JSON reasonable for a city's worth of people.
    for (let i = 0; i < workers.length; i += 2000) await upsertWorkers(client, workers.slice(i, i + 2000));
    const updated = existing.rows[0].n;
    return { created: workers.length - updated, updated };
  });
}
