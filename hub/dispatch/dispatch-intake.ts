// Where incidents come from (DESIGN §4): device alerts, patrol reports, resident complaints,
// operators. Each becomes one IntakeInput; the locator gives it its owning grid (never none: a point
// outside every grid goes to the nearest one, flagged), the SLA table its priority, deadlines and
// starting rung.
import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../../common/clock.js';
import type { GridLocator } from '../regions/grid-locator.js';
import { initialLevelForTier } from './dispatch-ladder.js';
import type { IncidentRecord } from './incident-record.js';
import { createIncident, type Actor, type AuditEntry } from './incident-state-machine.js';
import { deadlinesFor, slaCategory, type SlaCategory } from './sla-policy.js';
import type { Priority } from '../../protocol/incident-vocabulary.js';

export interface IntakeInput {
  source: IncidentRecord['source'];
  category: string;
  priority?: Priority;
  lat: number;
  lon: number;
  title?: string | null;
  description?: string | null;
  photos?: string[];
  reporterKind: NonNullable<IncidentRecord['reporterKind']>;
  reporterId: string | null;
  reporterContact?: string | null;
  reporterTokenHash?: string | null;
  foldKey?: string | null;
  /** When the thing happened (the alert's or report's ts); the SLA clock starts at intake. */
  seenAt?: number;
  /** Workers never offered this case at its first rung: the worker whose own SOS it is. */
  excludeWorkerIds?: string[];
}

const ID_CHARS = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

function randomCode(n: number): string {
  const bytes = randomBytes(n);
  let s = '';
  for (const b of bytes) s += ID_CHARS[b % ID_CHARS.length];
  return s;
}

/** "20261125-7QK2MZ": the Asia/Shanghai date an operator reads out on the phone, then a random part. */
export function newIncidentId(now: number): string {
  const d = new Date(now + 8 * 3600_000).toISOString().slice(0, 10).replaceAll('-', '');
  return `${d}-${randomCode(6)}`;
}

export const newTaskId = (): string => `T${randomCode(10)}`;
export const newReceiptToken = (): string => randomBytes(18).toString('base64url');
export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

export function intakeRecord(
  input: IntakeInput,
  locator: GridLocator,
  sla: readonly SlaCategory[],
  clock: Clock,
): { record: IncidentRecord; audit: AuditEntry } {
  const where = locator.locate(input.lon, input.lat);
  const cat = slaCategory(input.category, sla);
  const priority = input.priority ?? cat.defaultPriority;
  const actor: Actor =
    input.reporterKind === 'worker' && input.reporterId
      ? { kind: 'worker', id: input.reporterId }
      : input.reporterKind === 'resident' && input.reporterId
        ? { kind: 'resident', id: input.reporterId }
        : input.reporterKind === 'operator' && input.reporterId
          ? { kind: 'operator', id: input.reporterId }
          : { kind: 'system', id: input.reporterId ?? 'intake' };
  const { incident, audit } = createIncident(
    {
      id: newIncidentId(clock.now()),
      source: input.source,
      category: input.category,
      priority,
      lat: input.lat,
      lon: input.lon,
      gridCode: where.gridCode,
      reporterId: input.reporterId,
      escalationLevel: initialLevelForTier(cat.tier),
    },
    actor,
    clock,
  );
  if (where.flagged) audit.detail = { locationFlag: where.flagged, distanceM: Math.round(where.distanceM ?? 0) };
  else if (where.tiedWith?.length) audit.detail = { sharedEdgeWith: where.tiedWith.join(',') };
  const record: IncidentRecord = {
    ...incident,
    // Counted as already tried, so matching passes them over (the ladder clears the list on escalation).
    triedWorkerIds: input.excludeWorkerIds ?? incident.triedWorkerIds,
    ...deadlinesFor(input.category, priority, incident.slaStartedAt, sla),
    title: input.title ?? null,
    description: input.description ?? null,
    photos: input.photos ?? [],
    locationFlag: where.flagged,
    reporterKind: input.reporterKind,
    reporterContact: input.reporterContact ?? null,
    reporterTokenHash: input.reporterTokenHash ?? null,
    ratingScore: null,
    foldKey: input.foldKey ?? null,
    foldCount: 1,
    lastSeenAt: input.seenAt ?? incident.createdAt,
    acceptedAt: null,
    arrivedAt: null,
    resolvedAt: null,
    closedAt: null,
    overdueStages: [],
  };
  return { record, audit };
}
