import { describe, expect, it } from 'vitest';
import { ALERT_TYPES } from '../../../protocol/schemas.js';
import { DEFAULT_SLA_TABLE, deadlinesFor, overdueStages, slaCategory, slaTableSchema } from '../../../hub/dispatch/sla-policy.js';
import { T0 } from './builders.js';
import { PRIORITIES } from '../../../protocol/incident-vocabulary.js';

const H = 3_600_000;

describe('SLA policy', () => {
  it('covers every device alert type of the wire contract and the common complaints', () => {
    const codes = new Set(DEFAULT_SLA_TABLE.map((c) => c.code));
    for (const t of ALERT_TYPES) expect(codes, t).toContain(t);
    for (const c of ['drain', 'road', 'garbage', 'noise', 'parking', 'streetlight', 'dispute', 'hazard']) expect(codes, c).toContain(c);
    expect(codes.size).toBe(DEFAULT_SLA_TABLE.length); // unique
  });

  it('is a valid table by its own schema (accept ≤ arrive ≤ resolve, names in both languages)', () => {
    expect(slaTableSchema.safeParse(DEFAULT_SLA_TABLE).success).toBe(true);
    expect(
      slaTableSchema.safeParse([
        {
          ...DEFAULT_SLA_TABLE[0],
          deadlines: { ...DEFAULT_SLA_TABLE[0].deadlines, low: { acceptMin: 90, arriveMin: 60, resolveMin: 100 } },
        },
      ]).success,
    ).toBe(false);
  });

  it('resolves a normal complaint within 72 hours (seed 001) and never allows more', () => {
    expect(deadlinesFor('drain', 'normal', T0).resolveBy).toBe(T0 + 72 * H);
    for (const c of DEFAULT_SLA_TABLE) for (const p of PRIORITIES) expect(c.deadlines[p].resolveMin).toBeLessThanOrEqual(72 * 60);
  });

  it('tightens with priority and uses the category default when none is given', () => {
    const [low, normal, high, urgent] = PRIORITIES.map((p) => deadlinesFor('camera.fire', p, T0).acceptBy);
    expect(low).toBeGreaterThan(normal);
    expect(normal).toBeGreaterThan(high);
    expect(high).toBeGreaterThan(urgent);
    expect(deadlinesFor('camera.fire', undefined, T0)).toEqual(deadlinesFor('camera.fire', 'urgent', T0));
  });

  it('gives an unknown category the fallback row, never "no deadline"', () => {
    expect(slaCategory('camera.new_firmware_type').code).toBe('other');
    expect(deadlinesFor('camera.new_firmware_type', 'normal', T0).resolveBy).toBe(T0 + 72 * H);
  });

  it('says which deadlines a case has missed in its state', () => {
    const d = deadlinesFor('drain', 'normal', T0); // accept 1 h, arrive 4 h, resolve 72 h
    expect(overdueStages('dispatched', d, T0 + 30 * 60_000)).toEqual([]);
    expect(overdueStages('dispatched', d, T0 + H)).toEqual(['accept']);
    expect(overdueStages('reported', d, T0 + 5 * H)).toEqual(['accept', 'arrive']);
    expect(overdueStages('accepted', d, T0 + 5 * H)).toEqual(['arrive']);
    expect(overdueStages('on_site', d, T0 + 73 * H)).toEqual(['resolve']);
    expect(overdueStages('resolved', d, T0 + 73 * H)).toEqual([]);
    expect(overdueStages('cancelled', d, T0 + 73 * H)).toEqual([]);
  });
});
