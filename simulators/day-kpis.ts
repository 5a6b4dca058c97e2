// The figures of a simulated day (issue #3 item 8), read from the database the hub wrote, not from
// the simulators' own counters: incidents, closed, closure rate, on-time rate, median and p90 time
// to accept, arrive and resolve, escalations, and orphans (open cases nobody is on; must be 0).
import type pg from 'pg';

export interface Spread {
  n: number;
  medianS: number | null;
  p90S: number | null;
}

export interface DayKpis {
  incidents: number;
  bySource: Record<string, number>;
  byState: Record<string, number>;
  closed: number;
  cancelled: number;
  /** closed / (incidents − cancelled). */
  closureRate: number | null;
  resolved: number;
  resolvedOnTime: number;
  /** Still open with the resolve deadline already passed: late for sure. */
  openOverdue: number;
  /** resolved on time / (resolved + open past their resolve deadline). */
  onTimeRate: number | null;
  toAccept: Spread;
  toArrive: Spread;
  toResolve: Spread;
  escalations: number;
  reopened: number;
  alarms: number;
  offers: Record<string, number>;
  /** Open, no assignee, no pending offer, below street command: nobody is on it. */
  orphans: number;
  orphanIds: string[];
  /** Open at street command (level 3) with nobody on it: not orphans (the command centre holds them, alarmed), but worth a look. */
  heldAtCommand: Record<string, number>;
}

const OPEN = `state NOT IN ('resolved', 'verified', 'closed', 'cancelled')`;

function spread(row: Record<string, unknown>, prefix: string): Spread {
  const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
  return { n: Number(row[`${prefix}_n`]), medianS: num(row[`${prefix}_p50`]), p90S: num(row[`${prefix}_p90`]) };
}

/** KPIs over the incidents created in [from, to) (epoch ms), judged at `to`. */
export async function readDayKpis(pool: Pick<pg.Pool, 'query'>, from: number, to: number): Promise<DayKpis> {
  const range = [new Date(from), new Date(to)];
  const inRange = `created_at >= $1 AND created_at < $2`;
  const inRangeI = `i.created_at >= $1 AND i.created_at < $2`;
  const ms = (a: string) => `extract(epoch FROM ${a} - created_at)`;
  const pct = (col: string, name: string) =>
    `count(${col}) AS ${name}_n,
     percentile_cont(0.5) WITHIN GROUP (ORDER BY ${ms(col)}) FILTER (WHERE ${col} IS NOT NULL) AS ${name}_p50,
     percentile_cont(0.9) WITHIN GROUP (ORDER BY ${ms(col)}) FILTER (WHERE ${col} IS NOT NULL) AS ${name}_p90`;
  const main = await pool.query(
    `SELECT count(*) AS incidents,
            count(*) FILTER (WHERE state = 'closed') AS closed,
            count(*) FILTER (WHERE state = 'cancelled') AS cancelled,
            count(resolved_at) AS resolved,
            count(*) FILTER (WHERE resolved_at IS NOT NULL AND resolved_at <= resolve_by) AS on_time,
            count(*) FILTER (WHERE resolved_at IS NULL AND ${OPEN} AND resolve_by < $2) AS open_overdue,
            coalesce(sum(reopen_count), 0) AS reopened,
            ${pct('accepted_at', 'acc')}, ${pct('arrived_at', 'arr')}, ${pct('resolved_at', 'res')}
       FROM incidents WHERE ${inRange}`,
    range,
  );
  const m = main.rows[0] as Record<string, unknown>;
  const groups = async (col: string): Promise<Record<string, number>> => {
    const r = await pool.query(`SELECT ${col} AS k, count(*) AS n FROM incidents WHERE ${inRange} GROUP BY 1 ORDER BY 1`, range);
    return Object.fromEntries(r.rows.map((x) => [String(x.k), Number(x.n)]));
  };
  const esc = await pool.query(
    `SELECT count(*) AS n FROM incident_audit a JOIN incidents i ON i.id = a.incident_id WHERE a.action = 'escalate' AND ${inRangeI}`,
    range,
  );
  const alarms = await pool.query(
    `SELECT count(*) AS n FROM incident_alarms a JOIN incidents i ON i.id = a.incident_id WHERE ${inRangeI}`,
    range,
  );
  const offers = await pool.query(
    `SELECT o.status AS k, count(*) AS n FROM incident_offers o JOIN incidents i ON i.id = o.incident_id WHERE ${inRangeI} GROUP BY 1 ORDER BY 1`,
    range,
  );
  const orphans = await pool.query(
    `SELECT id FROM incidents i
      WHERE ${inRange} AND ${OPEN} AND assignee_id IS NULL AND escalation_level < 3
        AND NOT EXISTS (SELECT 1 FROM incident_offers o WHERE o.incident_id = i.id AND o.status = 'pending')
      ORDER BY id`,
    range,
  );
  const held = await pool.query(
    `SELECT category AS k, count(*) AS n FROM incidents i
      WHERE ${inRange} AND ${OPEN} AND assignee_id IS NULL AND escalation_level >= 3
        AND NOT EXISTS (SELECT 1 FROM incident_offers o WHERE o.incident_id = i.id AND o.status = 'pending')
      GROUP BY 1 ORDER BY 1`,
    range,
  );
  const incidents = Number(m.incidents);
  const cancelled = Number(m.cancelled);
  const closed = Number(m.closed);
  const resolved = Number(m.resolved);
  const onTime = Number(m.on_time);
  const openOverdue = Number(m.open_overdue);
  return {
    incidents,
    bySource: await groups('source'),
    byState: await groups('state'),
    closed,
    cancelled,
    closureRate: incidents - cancelled > 0 ? closed / (incidents - cancelled) : null,
    resolved,
    resolvedOnTime: onTime,
    openOverdue,
    onTimeRate: resolved + openOverdue > 0 ? onTime / (resolved + openOverdue) : null,
    toAccept: spread(m, 'acc'),
    toArrive: spread(m, 'arr'),
    toResolve: spread(m, 'res'),
    escalations: Number(esc.rows[0]?.n ?? 0),
    reopened: Number(m.reopened),
    alarms: Number(alarms.rows[0]?.n ?? 0),
    offers: Object.fromEntries(offers.rows.map((x) => [String(x.k), Number(x.n)])),
    orphans: orphans.rows.length,
    orphanIds: orphans.rows.map((x) => String(x.id)),
    heldAtCommand: Object.fromEntries(held.rows.map((x) => [String(x.k), Number(x.n)])),
  };
}

/** 95 s → "1m35s", 7260 s → "2h01m". */
export function duration(s: number | null): string {
  if (s === null || !Number.isFinite(s)) return '-';
  const t = Math.round(s);
  if (t < 60) return `${t}s`;
  if (t < 3600) return `${Math.floor(t / 60)}m${String(t % 60).padStart(2, '0')}s`;
  return `${Math.floor(t / 3600)}h${String(Math.floor((t % 3600) / 60)).padStart(2, '0')}m`;
}

const pct = (x: number | null): string => (x === null ? '-' : `${(x * 100).toFixed(1)} %`);
const kv = (r: Record<string, number>): string =>
  Object.entries(r)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ') || '-';

/** The KPI table, plain text, two columns. */
export function formatKpis(k: DayKpis): string {
  const rows: [string, string][] = [
    ['incidents', `${k.incidents}  (${kv(k.bySource)})`],
    ['closed', String(k.closed)],
    ['closure rate', `${pct(k.closureRate)}  (closed / incidents not cancelled)`],
    [
      'on-time rate',
      `${pct(k.onTimeRate)}  (${k.resolvedOnTime} resolved by resolve_by / ${k.resolved} resolved + ${k.openOverdue} open past it)`,
    ],
    ['time to accept', `median ${duration(k.toAccept.medianS)}, p90 ${duration(k.toAccept.p90S)}  (n ${k.toAccept.n})`],
    ['time to arrive', `median ${duration(k.toArrive.medianS)}, p90 ${duration(k.toArrive.p90S)}  (n ${k.toArrive.n})`],
    ['time to resolve', `median ${duration(k.toResolve.medianS)}, p90 ${duration(k.toResolve.p90S)}  (n ${k.toResolve.n})`],
    ['escalations', String(k.escalations)],
    ['overdue alarms', String(k.alarms)],
    ['reopened (unsatisfied)', String(k.reopened)],
    ['offers', kv(k.offers)],
    ['states now', kv(k.byState)],
    [
      'held at street command',
      `${Object.values(k.heldAtCommand).reduce((a, b) => a + b, 0)}  (${kv(k.heldAtCommand)}; open, nobody on it, alarmed)`,
    ],
    ['orphans', `${k.orphans}${k.orphans > 0 ? `  (${k.orphanIds.slice(0, 10).join(', ')})` : ''}`],
  ];
  const w = Math.max(...rows.map(([a]) => a.length));
  const line = `+${'-'.repeat(w + 2)}+${'-'.repeat(60)}`;
  return [line, ...rows.map(([a, b]) => `| ${a.padEnd(w)} | ${b}`), line].join('\n');
}
