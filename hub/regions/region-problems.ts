// Problems found when importing a region tree: reported to the operator, never thrown, each with a
// message in zh-CN and en (STYLE: one registry of messages in both languages).

export type ProblemCode =
  | 'duplicate_code'
  | 'parent_missing'
  | 'self_parent'
  | 'level_mismatch'
  | 'cycle'
  | 'ring_not_closed'
  | 'ring_too_short'
  | 'overlap'
  | 'gap'
  | 'outside_parent';

export interface Problem {
  code: ProblemCode;
  severity: 'error' | 'warning';
  regionCode: string;
  otherCode?: string;
  /** Area involved in m² (overlap: exact; gap: estimated by sampling). */
  areaM2?: number;
  /** A [lon, lat] where the problem can be seen. */
  at?: [number, number];
  messageZh: string;
  messageEn: string;
}

export function problem(
  code: ProblemCode,
  severity: Problem['severity'],
  regionCode: string,
  messageZh: string,
  messageEn: string,
  otherCode?: string,
  at?: readonly number[],
  areaM2?: number,
): Problem {
  return {
    code,
    severity,
    regionCode,
    messageZh,
    messageEn,
    ...(otherCode === undefined ? {} : { otherCode }),
    ...(at === undefined ? {} : { at: [at[0], at[1]] as [number, number] }),
    ...(areaM2 === undefined ? {} : { areaM2 }),
  };
}
