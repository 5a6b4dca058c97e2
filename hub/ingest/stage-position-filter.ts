// Stage: position filters (issue 16 item 1, docs/decisions/010-position-filters.md). Runs after the
// rows stage, on WGS-84 rows in fix-time order, and decides per fix:
// - refused (a dead letter and a counter, never stored as a position): a time further ahead of the
//   hub's clock than FIX_MAX_FUTURE_S (future_fix: nothing can place it on a trail, and a 2099 fix
//   held a worker's dot at 2099, issue 16), or "Null Island" (zero_fix: an SDK's empty fix);
// - stored flagged (positions_flagged, never a dot, a trail or a KPI): an impossible jump from the
//   device's previous valid fix (jump) or an accuracy worse than FIX_MAX_ACC_M (accuracy). These
//   are real measurements whose verdict may be wrong (the previous fix may be the bad one), so
//   they are kept for inspection rather than thrown away.
// Only the refused fixes of a message are refused: a store-and-forward batch keeps its good fixes.
// That is why this stage, unlike the others, writes dead letters and counts itself: the message is
// valid, some of its fixes are not.
import type { Config } from '../../common/config.js';
import { LogBudget } from '../../common/log-budget.js';
import type { Logger } from '../../common/logger.js';
import { Metrics } from '../../common/metrics.js';
import { haversineM } from '../regions/geo-measure.js';
import type { FixFlag, PositionRow } from '../rows/row-types.js';
import type { FixAnchor, StoredHeads } from '../rows/fix-heads.js';
import type { IngestContext, IngestStage, StageOutcome } from './ingest-types.js';
import { RecentFixes } from './recent-fixes.js';

export interface FixFilterSettings {
  maxFutureS: number;
  maxSpeedKmh: number;
  maxAccM: number;
}

/** The defaults of FIX_MAX_FUTURE_S, FIX_MAX_SPEED_KMH and FIX_MAX_ACC_M (common/config.ts). */
export const DEFAULT_FIX_FILTER: FixFilterSettings = Object.freeze({ maxFutureS: 60, maxSpeedKmh: 150, maxAccM: 200 });

export function fixFilterSettings(c: Pick<Config, 'FIX_MAX_FUTURE_S' | 'FIX_MAX_SPEED_KMH' | 'FIX_MAX_ACC_M'>): FixFilterSettings {
  return { maxFutureS: c.FIX_MAX_FUTURE_S, maxSpeedKmh: c.FIX_MAX_SPEED_KMH, maxAccM: c.FIX_MAX_ACC_M };
}

/** A (0,0) fix in any CRS: ±0.01° (about a kilometre) also catches BD-09's (0,0), which converts to (-0.006, -0.0065). */
const NULL_ISLAND_DEG = 0.01;
/** Valid fixes remembered per device (at least; up to twice as many): enough to find the fix before a late upload. */
const RECENT_PER_DEVICE = 16;
/**
 * This many consecutive jump-flagged fixes that agree with each other move the anchor: when the
 * previous valid fix was the wrong one (a cold start's first fix, say), the device's true
 * positions would otherwise be flagged until time alone made the jump look possible.
 */
const JUMP_CONFIRM = 3;

export interface FixVerdict {
  row: PositionRow;
  /** Set: refused with this reason; else kept (flagged when row.flags is set). */
  refused?: string;
}

interface DeviceMemory {
  /** Valid fixes, ascending by time. */
  recent: RecentFixes;
  /** A run of jump-flagged fixes that agree with each other (see JUMP_CONFIRM). */
  suspect: { last: FixAnchor; n: number } | null;
}

/** The rules, pure: per-device memory in, verdicts out; the clock is the message's receive time. */
export class FixFilter {
  private readonly devices = new Map<string, DeviceMemory>();
  private readonly maxFutureMs: number;
  private readonly maxSpeedMps: number;

  constructor(private readonly s: FixFilterSettings = DEFAULT_FIX_FILTER) {
    this.maxFutureMs = s.maxFutureS * 1000;
    this.maxSpeedMps = s.maxSpeedKmh / 3.6;
  }

  /** Seeds a device's previous valid fix (from the database after a start). */
  seed(deviceId: string, a: FixAnchor): void {
    const m = this.memory(deviceId);
    m.recent.insert(a.ts, a.lat, a.lon, a.acc);
    m.recent.trim();
  }

  /** Judges one message's rows of one device, in fix-time order; sets flags and clockAheadMs. */
  judge(deviceId: string, rows: readonly PositionRow[], receivedAt: number): FixVerdict[] {
    const m = this.memory(deviceId);
    const out: FixVerdict[] = [];
    for (const row of rows) {
      row.clockAheadMs = row.ts - receivedAt;
      if (row.clockAheadMs > this.maxFutureMs) {
        out.push({ row, refused: `future_fix: ${Math.round(row.clockAheadMs / 1000)} s ahead of the hub's clock` });
        continue;
      }
      if (Math.abs(row.lat) < NULL_ISLAND_DEG && Math.abs(row.lon) < NULL_ISLAND_DEG) {
        out.push({ row, refused: 'zero_fix: (0,0) is not a position' });
        continue;
      }
      // No array for the common valid fix (one per fix was garbage: GC is ~11 % of a node's busy time).
      let flags: FixFlag[] | null = null;
      const inaccurate = row.acc !== null && row.acc > this.s.maxAccM;
      if (inaccurate) flags = ['accuracy'];
      const recent = m.recent;
      const anchor = recent.before(row.ts);
      const ahead = recent.length === 0 || row.ts > recent.ts(recent.length - 1);
      const jump = anchor >= 0 && this.jumps(recent.ts(anchor), recent.lat(anchor), recent.lon(anchor), recent.acc(anchor), row);
      if (jump && !(ahead && !inaccurate && this.confirms(m, row))) (flags ??= []).push('jump');
      if (flags) {
        row.flags = flags;
      } else {
        if (ahead) m.suspect = null;
        recent.insert(row.ts, row.lat, row.lon, row.acc);
      }
      out.push({ row });
    }
    m.recent.trim();
    return out;
  }

  /** Implied speed above the limit, after giving each fix its stated accuracy (jitter is no jump). */
  private isJump(a: FixAnchor, b: FixAnchor): boolean {
    return this.jumps(a.ts, a.lat, a.lon, a.acc ?? 0, b);
  }

  private jumps(ts: number, lat: number, lon: number, acc: number, b: FixAnchor): boolean {
    const dtS = (b.ts - ts) / 1000;
    const metres = haversineM(lat, lon, b.lat, b.lon) - acc - (b.acc ?? 0);
    return metres > 0 && metres > this.maxSpeedMps * dtS;
  }

  /** Counts `row` into the run of agreeing jumps; true once the run is long enough to trust. */
  private confirms(m: DeviceMemory, row: PositionRow): boolean {
    const s = m.suspect;
    if (s && row.ts > s.last.ts && !this.isJump(s.last, row)) {
      s.last = row;
      s.n++;
    } else {
      m.suspect = { last: row, n: 1 };
    }
    if (m.suspect!.n < JUMP_CONFIRM) return false;
    m.suspect = null;
    return true;
  }

  private memory(deviceId: string): DeviceMemory {
    let m = this.devices.get(deviceId);
    if (!m) this.devices.set(deviceId, (m = { recent: new RecentFixes(RECENT_PER_DEVICE), suspect: null }));
    return m;
  }
}

export interface PositionFilterDeps {
  settings?: FixFilterSettings;
  /** Without it, a device's first fix after a start is checked against nothing older. */
  heads?: StoredHeads;
  metrics?: Metrics;
  logger?: Logger;
}

export function positionFilterStage(deps: PositionFilterDeps = {}): IngestStage {
  const filter = new FixFilter(deps.settings ?? DEFAULT_FIX_FILTER);
  const metrics = deps.metrics ?? new Metrics();
  const log = deps.logger?.child({ mod: 'position-filter' });
  // At most LOG_PER_REASON_PER_S lines per reason per second, as the runner does.
  const budget = LogBudget.perReasonPerSecond();
  let seeded = !deps.heads;
  let seeding: Promise<void> | null = null;
  // The clock a handset's last live message showed (ms ahead of ours); see clockAheadReading.
  const clocks = new Map<string, number>();
  metrics.gauge(
    'ingest_devices_clock_ahead',
    () => {
      let n = 0;
      for (const v of clocks.values()) if (v > 0) n++;
      return n;
    },
    'devices whose last live location message was timed ahead of the hub clock (>= 1 s)',
  );

  const judgeMessage = (ctx: IngestContext): StageOutcome => {
    const deviceId = ctx.device!.id;
    const verdicts = filter.judge(deviceId, ctx.rows.positions, ctx.receivedAt);
    const single = verdicts.length === 1;
    // Built only when a fix is refused: the common message keeps its rows as they are.
    let kept: PositionRow[] | null = null;
    let lead = -Infinity;
    for (let i = 0; i < verdicts.length; i++) {
      const v = verdicts[i]!;
      lead = Math.max(lead, v.row.clockAheadMs ?? -Infinity);
      if (v.row.flags) metrics.inc('ingest_fixes_flagged_total', { reason: v.row.flags.join('+') });
      if (!v.refused) {
        kept?.push(v.row);
        continue;
      }
      kept ??= verdicts.slice(0, i).flatMap((k) => (k.refused ? [] : [k.row]));
      const label = v.refused.split(':')[0]!;
      metrics.inc('ingest_fixes_rejected_total', { reason: label });
      if (log && budget.take(label)) log.warn({ deviceId, reason: v.refused, ts: v.row.ts }, 'fix refused');
      const payload = single ? ctx.payload : Buffer.from(JSON.stringify(fixJson(v.row)));
      ctx.rows.deadLetters.push({
        topic: ctx.topic,
        deviceId,
        reason: v.refused,
        size: payload.length,
        payload,
        ...(label === 'future_fix' ? { clockAheadMs: v.row.clockAheadMs } : {}),
      });
    }
    if (kept) ctx.rows.positions = kept;
    const reading = clockAheadReading(lead);
    if (reading !== undefined) clocks.set(deviceId, reading);
    return undefined;
  };

  return {
    name: 'position-filter',
    // Synchronous once the stored heads are read: the pipeline then runs the message without a
    // promise (ingest-pipeline.ts). Until then the message (and the pipeline behind it) waits.
    run(ctx: IngestContext): StageOutcome | Promise<StageOutcome> {
      if (ctx.channel !== 'location' || ctx.rows.positions.length === 0) return undefined;
      if (seeded) return judgeMessage(ctx);
      seeding ??= deps
        .heads!.load(ctx.receivedAt)
        .then(
          (heads) => {
            for (const [id, a] of heads) filter.seed(id, a);
          },
          // Without the stored heads the filter still works, from each device's next fix on.
          (err: unknown) =>
            void log?.error({ err: (err as Error).message }, 'could not read the previous fixes; jumps are checked from the next fix on'),
        )
        .then(() => {
          seeded = true;
        });
      return seeding.then(() => judgeMessage(ctx));
    },
  };
}

/**
 * What a message's lead (its newest fix's time minus the hub's receive time) says about the
 * handset's clock, in ms ahead: a lead of a second or more means the clock runs fast; a lead
 * within the last minute means it looks right (0); an older newest fix is a buffered upload and
 * says nothing (undefined). A slow clock cannot be told from a late upload, so only fast ones show.
 */
export function clockAheadReading(leadMs: number): number | undefined {
  if (leadMs >= 1000) return leadMs;
  if (leadMs > -60_000) return 0;
  return undefined;
}

function fixJson(r: PositionRow): Record<string, unknown> {
  return { ts: r.ts, lat: r.lat, lon: r.lon, acc: r.acc, alt: r.alt, speed: r.speed, heading: r.heading, battery: r.battery, seq: r.seq };
}
