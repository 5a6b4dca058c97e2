// The handset's `status` topic carries duty (DESIGN §3); ingest stores it in device_status and live
// state shows it, but dispatch and the people API read workers.duty. This projects the duty log
// onto workers.duty after each commit.
// Why "latest row in device_status" and not "the row just committed": store-and-forward uploads
// arrive out of order, and a heartbeat repeating the current duty must not move duty_since. The
// log in the database (handset statuses and API changes alike, see setWorkerDuty) decides.
import type pg from 'pg';
import type { StatusRow } from '../rows/row-types.js';
import type { Duty } from './worker-store.js';

type Queryable = Pick<pg.Pool, 'query'>;

export interface DutyChanged {
  workerId: string;
  duty: Duty;
  /** Epoch ms of the status that set it. */
  since: number;
}

/**
 * Call with the committed status rows (Rows.statuses from the hub's commit listener). Returns the
 * workers whose duty actually changed, so the caller can tell dispatch and the screens.
 */
export async function syncDutyFromStatuses(db: Queryable, statuses: readonly StatusRow[]): Promise<DutyChanged[]> {
  const workerIds = [
    ...new Set(statuses.filter((s) => s.kind === 'status' && s.duty !== null && s.workerId !== null).map((s) => s.workerId as string)),
  ];
  if (workerIds.length === 0) return [];
  const r = await db.query<{ id: string; duty: Duty; duty_since: Date }>(
    `UPDATE workers w SET duty = s.duty, duty_since = s.ts
       FROM (SELECT DISTINCT ON (d.worker_id) d.worker_id, st.duty, st.ts
               FROM device_status st JOIN devices d ON d.id = st.device_id
              WHERE d.worker_id = ANY($1::text[]) AND st.kind = 'status' AND st.duty IS NOT NULL
              ORDER BY d.worker_id, st.ts DESC) s
      WHERE w.id = s.worker_id AND w.duty IS DISTINCT FROM s.duty
        AND (w.duty_since IS NULL OR w.duty_since <= s.ts)
      RETURNING w.id, w.duty, w.duty_since`,
    [workerIds],
  );
  return r.rows
    .map((row) => ({ workerId: row.id, duty: row.duty, since: row.duty_since.getTime() }))
    .sort((a, b) => (a.workerId < b.workerId ? -1 : 1));
}
