// People over HTTP (issue 3 item 2): who is there, on duty or not, where they were last seen and
// how much they carry; duty set by an operator; workers registered in bulk.
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { systemClock, type Clock } from '../../common/clock.js';
import { AppError } from '../../common/error-codes.js';
import type { WorkerLive } from '../../protocol/socket-events.js';
import { WORKER_ROLES, type WorkerRole } from '../../protocol/worker-roles.js';
import { sendFailure } from '../regions/region-routes.js';
import { areaOf } from '../auth/request-area.js';
import { checkWorkers, findWorker, listWorkers, saveWorkers, setWorkerDuty, type Duty, type WorkerInput, type WorkerRecord } from './worker-store.js';

export interface WorkerRouteOptions {
  pool: pg.Pool;
  /** Live positions and presence (the hub's LiveState); without it every position is null. */
  live?: { readonly workers: ReadonlyMap<string, WorkerLive> };
  clock?: Clock;
  /** Called after a committed duty change from the API; the hub updates live state and dispatch. */
  onDutyChanged?: (workerId: string, duty: Duty) => void | Promise<void>;
  /** Called after a committed bulk upsert; the hub reloads its worker registry. */
  onWorkersChanged?: () => void | Promise<void>;
}

export interface WorkerView {
  id: string;
  name: string;
  role: WorkerRole;
  gridCodes: string[];
  categories: string[];
  duty: Duty;
  dutySince: string | null;
  online: boolean;
  deviceId: string | null;
  position: { lat: number; lon: number; ts: string; ageMs: number; battery: number | null } | null;
  load: number;
}

const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 128 } } } as const;
const roleEnum = { type: 'string', enum: [...WORKER_ROLES] } as const;
const dutyEnum = { type: 'string', enum: ['on', 'off'] } as const;
const code = { type: 'string', minLength: 1, maxLength: 64 } as const;

export async function workerRoutes(app: FastifyInstance, opts: WorkerRouteOptions): Promise<void> {
  const { pool } = opts;
  const clock = opts.clock ?? systemClock;

  const view = (w: WorkerRecord, now: number): WorkerView => {
    const live = opts.live?.workers.get(w.id);
    const hasFix = live && live.lat !== null && live.lon !== null && live.ts !== null;
    return {
      id: w.id,
      name: w.name,
      role: w.role,
      gridCodes: w.gridCodes,
      categories: w.categories,
      duty: w.duty,
      dutySince: w.dutySince === null ? null : new Date(w.dutySince).toISOString(),
      online: live?.online ?? false,
      deviceId: w.deviceId ?? live?.deviceId ?? null,
      position: hasFix
        ? { lat: live.lat as number, lon: live.lon as number, ts: new Date(live.ts as number).toISOString(), ageMs: Math.max(0, now - (live.ts as number)), battery: live.battery }
        : null,
      load: w.load,
    };
  };

  app.get<{ Querystring: { grid?: string; role?: WorkerRole; duty?: Duty } }>(
    '/api/workers',
    {
      config: { access: 'read', areaParam: 'grid' },
      schema: {
        querystring: { type: 'object', additionalProperties: false, properties: { grid: code, role: roleEnum, duty: dutyEnum } },
      },
    },
    async (req) => {
      const now = clock.now();
      // The caller's area only, by the live screen's rule: a worker belongs to its first grid.
      const area = areaOf(req);
      const workers = (await listWorkers(pool, req.query)).filter((w) => area.covers(w.gridCodes[0] ?? null));
      return { serverTime: new Date(now).toISOString(), workers: workers.map((w) => view(w, now)) };
    },
  );

  const emptyQuery = { type: 'object', additionalProperties: false, properties: {} } as const;

  app.get<{ Params: { id: string } }>('/api/workers/:id', { config: { access: 'read', target: 'worker' }, schema: { params: idParams, querystring: emptyQuery } }, async (req) => {
    const w = await findWorker(pool, req.params.id);
    if (!w) throw new AppError('WORKER_NOT_FOUND');
    return view(w, clock.now());
  });

  app.put<{ Params: { id: string }; Body: { duty: Duty } }>(
    '/api/workers/:id/duty',
    {
      config: { access: 'operate', target: 'worker' },
      schema: {
        params: idParams,
        querystring: emptyQuery,
        body: { type: 'object', required: ['duty'], additionalProperties: false, properties: { duty: dutyEnum } },
      },
    },
    async (req) => {
      const result = await setWorkerDuty(pool, req.params.id, req.body.duty, clock.now());
      if (!result) throw new AppError('WORKER_NOT_FOUND');
      if (result.changed) await opts.onDutyChanged?.(req.params.id, result.duty);
      return { ok: true, id: req.params.id, duty: result.duty, dutySince: new Date(result.dutySince).toISOString(), changed: result.changed };
    },
  );

  app.put<{ Body: { workers: WorkerInput[] } }>(
    '/api/workers',
    {
      // The roster of the whole hub (it may move anyone anywhere): an admin of the whole tree.
      config: { access: 'system', body: 'bulk' },
      schema: {
        querystring: emptyQuery,
        body: {
          type: 'object',
          required: ['workers'],
          additionalProperties: false,
          properties: {
            workers: {
              type: 'array',
              minItems: 1,
              maxItems: 50_000,
              items: {
                type: 'object',
                required: ['id', 'name', 'role'],
                additionalProperties: false,
                properties: {
                  id: { type: 'string', minLength: 1, maxLength: 128 },
                  name: { type: 'string', minLength: 1, maxLength: 200 },
                  role: roleEnum,
                  gridCodes: { type: 'array', items: code, maxItems: 1000, default: [] },
                  categories: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 64 }, maxItems: 200, default: ['*'] },
                },
              },
            },
          },
        },
      },
    },
    async (req, reply) => {
      const { workers } = req.body;
      const problems = await checkWorkers(pool, workers);
      if (problems.length > 0) return sendFailure(reply, 422, 'WORKERS_INVALID', { problems });
      const saved = await saveWorkers(pool, workers);
      await opts.onWorkersChanged?.();
      return { ok: true, ...saved };
    },
  );
}
