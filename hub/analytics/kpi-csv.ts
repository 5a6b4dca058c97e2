// CSV export of a KPI report: one row for the total and one per group, the same figures as the
// JSON. UTF-8 with a BOM so Excel opens region and category names (Chinese) correctly; fields are
// quoted per RFC 4180, and a text field starting with = + - @ is prefixed with ' so a spreadsheet
// does not run it as a formula (OWASP "CSV injection"): region names come from imported files.
import type { Durations, KpiFigures, KpiReport } from './kpi-query.js';

export const CSV_COLUMNS = [
  'dimension',
  'key',
  'label',
  'incidents',
  'open',
  'closed',
  'cancelled',
  'closure_rate',
  'resolved',
  'resolved_on_time',
  'on_time_rate',
  'overdue_open',
  'accept_n',
  'accept_mean_ms',
  'accept_p50_ms',
  'accept_p90_ms',
  'arrive_n',
  'arrive_mean_ms',
  'arrive_p50_ms',
  'arrive_p90_ms',
  'resolve_n',
  'resolve_mean_ms',
  'resolve_p50_ms',
  'resolve_p90_ms',
  'rated',
  'satisfied',
  'satisfaction_rate',
  'rating_score_n',
  'rating_score_mean',
] as const;

export function csvField(v: string | number | null): string {
  if (v === null) return '';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Math.round(v * 1e6) / 1e6);
  const s = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const durations = (d: Durations) => [d.n, d.mean, d.p50, d.p90];

function figures(f: KpiFigures): (number | null)[] {
  return [
    f.incidents,
    f.open,
    f.closed,
    f.cancelled,
    f.closureRate,
    f.resolved,
    f.resolvedOnTime,
    f.onTimeRate,
    f.overdueOpen,
    ...durations(f.acceptMs),
    ...durations(f.arriveMs),
    ...durations(f.resolveMs),
    f.rated,
    f.satisfied,
    f.satisfactionRate,
    f.ratingScoreN,
    f.ratingScoreMean,
  ];
}

export function kpiCsv(report: KpiReport): string {
  const rows: (string | number | null)[][] = [
    [...CSV_COLUMNS],
    ['total', report.scope.code, report.scope.name, ...figures(report.total)],
    ...report.groups.map((g) => [report.by, g.key, g.label, ...figures(g)]),
  ];
  return `\ufeff${rows.map((r) => r.map(csvField).join(',')).join('\r\n')}\r\n`;
}

export function csvFilename(report: KpiReport): string {
  // ASCII only in the header: the scope code is ours, but strip anything odd anyway.
  const safe = report.scope.code.replace(/[^A-Za-z0-9_.-]/g, '_');
  return `kpis-${safe}-${report.from.slice(0, 10)}-${report.to.slice(0, 10)}-${report.by}.csv`;
}
