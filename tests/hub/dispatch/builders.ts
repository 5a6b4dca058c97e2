// Builders of valid domain objects for the dispatch tests (STYLE: `aFix({ lat })`-style builders).
import type { Actor, Incident } from '../../../hub/dispatch/incident-state-machine.js';
import type { DispatchWorker } from '../../../hub/dispatch/worker-index.js';

export const T0 = Date.UTC(2024, 8, 30, 1, 0, 0); // 2024-09-30 09:00 Asia/Shanghai

export function anIncident(over: Partial<Incident> = {}): Incident {
  return {
    id: 'inc-1',
    source: 'patrol_report',
    category: 'drain',
    priority: 'normal',
    lat: 27.83,
    lon: 113.12,
    gridCode: 'G1',
    state: 'reported',
    version: 1,
    escalationLevel: 0,
    assigneeId: null,
    triedWorkerIds: [],
    reporterId: 'r1',
    reopenCount: 0,
    rating: null,
    createdAt: T0,
    updatedAt: T0,
    slaStartedAt: T0,
    ...over,
  };
}

export function aWorker(over: Partial<DispatchWorker> & { id: string }): DispatchWorker {
  return {
    role: 'grid_worker',
    gridCodes: ['G1'],
    categories: ['*'],
    duty: 'on',
    online: true,
    position: { lat: 27.83, lon: 113.12, ts: T0 },
    load: 0,
    ...over,
  };
}

export const system: Actor = { kind: 'system', id: 'hub' };
export const operator: Actor = { kind: 'operator', id: 'op-7' };
export const worker = (id: string, role: Actor['role'] = 'grid_worker'): Actor => ({ kind: 'worker', id, role });
export const resident = (id: string): Actor => ({ kind: 'resident', id });
