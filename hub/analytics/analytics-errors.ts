// Analytics errors: codes from the one registry (common/error-codes.ts), thrown as AppError with a
// status so the hub's error handler puts them in its envelope.
import { AppError, type ANALYTICS_ERRORS } from '../../common/error-codes.js';

export type AnalyticsErrorCode = keyof typeof ANALYTICS_ERRORS;
export class AnalyticsError extends AppError<AnalyticsErrorCode> {}

/** Parses from/to (ISO-8601) into epoch ms, at most maxSpanMs apart. */
export function parseRange(from: string, to: string, maxSpanMs = 7 * 86_400_000): { from: number; to: number } {
  const f = Date.parse(from);
  const t = Date.parse(to);
  if (Number.isNaN(f) || Number.isNaN(t)) throw new AnalyticsError('BAD_TIME');
  if (t <= f || t - f > maxSpanMs) throw new AnalyticsError('BAD_RANGE');
  return { from: f, to: t };
}
