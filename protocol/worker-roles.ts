// The roles a worker of the roster has (DESIGN §4 Dispatch ladder: the grid worker first, then the
// grid leader, the community, the street's command centre and departments), declared once for the
// roster's import and routes, the dispatch ladder, the storage seeders and the simulators. The zod
// enum is marked pure so a browser bundle that takes only the constants carries no zod.
import { z } from 'zod';

export const WORKER_ROLES = ['grid_worker', 'grid_leader', 'community_police', 'department_staff', 'command'] as const;
export const workerRoleSchema = /* @__PURE__ */ z.enum(WORKER_ROLES);
export type WorkerRole = z.infer<typeof workerRoleSchema>;
