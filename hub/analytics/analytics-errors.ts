// Error codes of the analytics API with their user messages (STYLE: one registry, zh-CN and en).
// Thrown as errors with statusCode so the hub's one error handler puts them in its envelope.

export const ANALYTICS_ERRORS = {
  BAD_TIME: { zh: '时间格式错误，应为 ISO-8601', en: 'Times must be ISO-8601' },
  BAD_RANGE: { zh: '开始时间须早于结束时间，且跨度不超过 7 天', en: 'from must be before to, and the span at most 7 days' },
  BAD_DATE: { zh: '日期格式错误，应为 YYYY-MM-DD', en: 'The date must be YYYY-MM-DD' },
  GRID_NOT_FOUND: { zh: '网格不存在', en: 'No such grid' },
} as const satisfies Record<string, { zh: string; en: string }>;

export type AnalyticsErrorCode = keyof typeof ANALYTICS_ERRORS;

export class AnalyticsError extends Error {
  constructor(
    readonly code: AnalyticsErrorCode,
    readonly statusCode: number,
  ) {
    super(`${ANALYTICS_ERRORS[code].zh} / ${ANALYTICS_ERRORS[code].en}`);
  }
}

/** Parses from/to (ISO-8601) into epoch ms, at most maxSpanMs apart. */
export function parseRange(from: string, to: string, maxSpanMs = 7 * 86_400_000): { from: number; to: number } {
  const f = Date.parse(from);
  const t = Date.parse(to);
  if (Number.isNaN(f) || Number.isNaN(t)) throw new AnalyticsError('BAD_TIME', 400);
  if (t <= f || t - f > maxSpanMs) throw new AnalyticsError('BAD_RANGE', 400);
  return { from: f, to: t };
}
