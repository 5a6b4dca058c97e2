// Rank who should be offered a case (DESIGN §4 Dispatch): responsibility (own grid first — "人在格中走，
// 事在格中办", seed 000), distance from the live position, load, freshness of that position, and
// fitness for the category. Every part is in [0,1] and returned, so the store can keep "why this
// worker". Ties break on worker id, so two hubs rank the same way.
import type { Clock } from '../../common/clock.js';
import { haversineM } from '../regions/geo-measure.js';
import type { Incident } from './incident-state-machine.js';
import type { WorkerRole } from '../../protocol/worker-roles.js';
import type { OfferVia, ScorePart } from '../../protocol/http-api.js';
import { rungFor } from './dispatch-ladder.js';
import type { DispatchWorker, WorkerIndex } from './worker-index.js';

export type MatchIncident = Pick<Incident, 'id' | 'lat' | 'lon' | 'gridCode' | 'category' | 'escalationLevel' | 'triedWorkerIds'>;

/** A weight per score part; the parts an offer carries (protocol OfferView) have the same keys. */
export type ScoreWeights = Record<ScorePart, number>;
export type ScoreParts = ScoreWeights;

export const DEFAULT_WEIGHTS: Readonly<ScoreWeights> = Object.freeze({
  responsibility: 0.35,
  distance: 0.25,
  load: 0.15,
  freshness: 0.1,
  fitness: 0.15,
});

export interface MatchOptions {
  /** Grids whose workers answer for the case at this level (dispatch-ladder scopeGridCodes). Default: the owning grid. */
  scopeGridCodes?: readonly string[];
  /** Workers of other grids within this radius of the case are candidates too. Default 1500 m. */
  neighbourRadiusM?: number;
  /** Default: the roles of the ladder rung at the incident's escalation level. */
  allowedRoles?: readonly WorkerRole[];
  weights?: Partial<ScoreWeights>;
  /** Distance at which the distance part is 0.5. Default 1000 m. */
  distanceHalfM?: number;
  /** A position this fresh scores 1; at staleMs it scores 0 and no longer makes a worker a neighbour. */
  freshMs?: number;
  staleMs?: number;
  /** Load at which the load part reaches 0. Default 5 open tasks. */
  loadCap?: number;
  /** Own grid, then scope, then neighbours, whatever the scores. Default true. */
  ownGridFirst?: boolean;
  /** How many to return. Default 10. */
  limit?: number;
}

export type CandidateVia = OfferVia;

export interface RankedCandidate {
  workerId: string;
  role: WorkerRole;
  via: CandidateVia;
  total: number;
  parts: ScoreParts;
  distanceM: number | null;
  positionAgeMs: number | null;
}

const VIA_ORDER: Record<CandidateVia, number> = { own_grid: 0, scope: 1, neighbour: 2 };
const RESPONSIBILITY: Record<CandidateVia, number> = { own_grid: 1, scope: 0.5, neighbour: 0 };

interface Ctx {
  incident: MatchIncident;
  roles: ReadonlySet<WorkerRole>;
  tried: ReadonlySet<string>;
  weights: ScoreWeights;
  weightSum: number;
  radiusM: number;
  halfM: number;
  freshMs: number;
  staleMs: number;
  loadCap: number;
  now: number;
  ownGridFirst: boolean;
  limit: number;
  scope: ReadonlySet<string>;
}

function context(incident: MatchIncident, options: MatchOptions, clock: Clock): Ctx {
  const weights = { ...DEFAULT_WEIGHTS, ...options.weights };
  const weightSum = weights.responsibility + weights.distance + weights.load + weights.freshness + weights.fitness;
  return {
    incident,
    roles: new Set(options.allowedRoles ?? rungFor(incident.escalationLevel).roles),
    tried: new Set(incident.triedWorkerIds),
    weights,
    weightSum: weightSum > 0 ? weightSum : 1,
    radiusM: options.neighbourRadiusM ?? 1500,
    halfM: options.distanceHalfM ?? 1000,
    freshMs: options.freshMs ?? 60_000,
    staleMs: options.staleMs ?? 15 * 60_000,
    loadCap: options.loadCap ?? 5,
    now: clock.now(),
    ownGridFirst: options.ownGridFirst ?? true,
    limit: options.limit ?? 10,
    scope: new Set(options.scopeGridCodes ?? [incident.gridCode]),
  };
}

/** 1 exact category, 0.8 its family ('door.*'), 0.6 anything ('*'), 0 not handled. */
export function categoryFitness(categories: readonly string[], category: string): number {
  let best = 0;
  for (const c of categories) {
    if (c === category) return 1;
    if (c.endsWith('.*') && category.startsWith(c.slice(0, -1))) best = Math.max(best, 0.8);
    else if (c === '*') best = Math.max(best, 0.6);
  }
  return best;
}

function score(w: DispatchWorker, via: CandidateVia, ctx: Ctx): RankedCandidate | null {
  if (w.duty !== 'on' || !w.online || !ctx.roles.has(w.role) || ctx.tried.has(w.id)) return null;
  const fitness = categoryFitness(w.categories, ctx.incident.category);
  if (fitness === 0) return null;
  const pos = w.position;
  const age = pos ? Math.max(0, ctx.now - pos.ts) : null;
  const dist = pos ? haversineM(ctx.incident.lat, ctx.incident.lon, pos.lat, pos.lon) : null;
  // A neighbour qualifies only by a live, recent position: a stale fix says nothing about now.
  if (via === 'neighbour' && (dist === null || age === null || dist > ctx.radiusM || age >= ctx.staleMs)) return null;
  const parts: ScoreParts = {
    responsibility: RESPONSIBILITY[via],
    distance: dist === null ? 0 : ctx.halfM / (ctx.halfM + dist),
    load: 1 - Math.min(Math.max(w.load, 0), ctx.loadCap) / ctx.loadCap,
    freshness: age === null ? 0 : age <= ctx.freshMs ? 1 : age >= ctx.staleMs ? 0 : 1 - (age - ctx.freshMs) / (ctx.staleMs - ctx.freshMs),
    fitness,
  };
  const k = ctx.weights;
  const total =
    (k.responsibility * parts.responsibility +
      k.distance * parts.distance +
      k.load * parts.load +
      k.freshness * parts.freshness +
      k.fitness * parts.fitness) /
    ctx.weightSum;
  return { workerId: w.id, role: w.role, via, total, parts, distanceM: dist, positionAgeMs: age };
}

function compare(ctx: Ctx) {
  return (a: RankedCandidate, b: RankedCandidate): number =>
    (ctx.ownGridFirst ? VIA_ORDER[a.via] - VIA_ORDER[b.via] : 0) ||
    b.total - a.total ||
    (a.workerId < b.workerId ? -1 : a.workerId > b.workerId ? 1 : 0);
}

function viaOf(w: DispatchWorker, ctx: Ctx): CandidateVia | null {
  if (w.gridCodes.includes(ctx.incident.gridCode)) return 'own_grid';
  return w.gridCodes.some((g) => ctx.scope.has(g)) ? 'scope' : null;
}

/** Ranked candidates through the worker index: grids in scope, then live neighbours within the radius. */
export function rankCandidates(incident: MatchIncident, index: WorkerIndex, options: MatchOptions, clock: Clock): RankedCandidate[] {
  const ctx = context(incident, options, clock);
  const seen = new Set<number>();
  const out: RankedCandidate[] = [];
  const consider = (i: number, via: CandidateVia | null): void => {
    if (seen.has(i)) return;
    seen.add(i);
    const w = index.workers[i];
    const c = score(w, via ?? viaOf(w, ctx) ?? 'neighbour', ctx);
    if (c) out.push(c);
  };
  for (const i of index.inGrid(incident.gridCode)) consider(i, 'own_grid');
  for (const g of ctx.scope) for (const i of index.inGrid(g)) consider(i, null);
  if (ctx.radiusM > 0) for (const i of index.near(incident.lat, incident.lon, ctx.radiusM)) consider(i, null);
  return out.sort(compare(ctx)).slice(0, ctx.limit);
}

/** The same ranking by scanning every worker: the reference for tests and the bench baseline. */
export function rankCandidatesByScan(
  incident: MatchIncident,
  workers: readonly DispatchWorker[],
  options: MatchOptions,
  clock: Clock,
): RankedCandidate[] {
  const ctx = context(incident, options, clock);
  const out: RankedCandidate[] = [];
  for (const w of workers) {
    const via = viaOf(w, ctx) ?? (ctx.radiusM > 0 ? 'neighbour' : null);
    const c = via ? score(w, via, ctx) : null;
    if (c) out.push(c);
  }
  return out.sort(compare(ctx)).slice(0, ctx.limit);
}
