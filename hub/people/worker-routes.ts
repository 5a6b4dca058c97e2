// People over HTTP (issue 3 item 2): who is there, on duty or not, where they were last seen and
// how much they carry; duty set by an operator; workers registered in bulk. Paths, queries, bodies
// and replies are the contract's (protocol/people-api.ts, issue 17 item 4).
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { systemClock, type Clock } from '../../common/clock.js';
import { AppError } from '../../common/error-codes.js';
import type { WorkerLive } from '../../protocol/socket-events.js';
import { PEOPLE_ROUTES as R, type WorkerView } from '../../protocol/people-api.js';
import type { ZodTypeProvider } from '../../common/zod-schema.js';
import { areaOf } from '../auth/request-area.js';
import { checkWorkers, findWorker, listWorkers, saveWorkers, setWorkerDuty, type Duty, type WorkerRecord } from './worker-store.js';

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

export async function workerRoutes(fastify: FastifyInstance, opts: WorkerRouteOptions): Promise<void> {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
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
        ? {
            lat: live.lat as number,
            lon: live.lon as number,
            ts: new Date(live.ts as number).toISOString(),
            ageMs: Math.max(0, now - (live.ts as number)),
            battery: live.battery,
          }
        : null,
      load: w.load,
    };
  };

  app.route({
    ...R.listWorkers,
    config: { access: 'read', areaParam: 'grid' },
    handler: async (req) => {
      const now = clock.now();
      // The caller's area only, by the live screen's rule: a worker belongs to its first grid.
      const area = areaOf(req);
      const workers = (await listWorkers(pool, req.query)).filter((w) => area.covers(w.gridCodes[0] ?? null));
      return { serverTime: new Date(now).toISOString(), workers: workers.map((w) => view(w, now)) };
    },
  });

  app.route({
    ...R.worker,
    config: { access: 'read', target: 'worker' },
    handler: async (req) => {
      const w = await findWorker(pool, req.params.id);
      if (!w) throw new AppError('WORKER_NOT_FOUND');
      return view(w, clock.now());
    },
  });

  app.route({
    ...R.setDuty,
    config: { access: 'operate', target: 'worker' },
    handler: async (req) => {
      const result = await setWorkerDuty(pool, req.params.id, req.body.duty, clock.now());
      if (!result) throw new AppError('WORKER_NOT_FOUND');
      if (result.changed) await opts.onDutyChanged?.(req.params.id, result.duty);
      return {
        ok: true as const,
        id: req.params.id,
        duty: result.duty,
        dutySince: new Date(result.dutySince).toISOString(),
        changed: result.changed,
      };
    },
  });

  app.route({
    ...R.importWorkers,
    // The roster of the whole hub (it may move anyone anywhere): an admin of the whole tree.
    config: { access: 'system', body: 'bulk' },
    handler: async (req) => {
      const { workers } = req.body;
      const problems = await checkWorkers(pool, workers);
      if (problems.length > 0) throw new AppError('WORKERS_INVALID', { problems });
      const saved = await saveWorkers(pool, workers);
      await opts.onWorkersChanged?.();
      return { ok: true as const, ...saved };
    },
  });
}
