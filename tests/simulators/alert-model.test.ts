import { describe, expect, it } from 'vitest';
import { ALERT_TYPES, alertSchema, type AlertPayload } from '../../protocol/schemas.js';
import { AlertModel } from '../../simulators/alert-model.js';
import { CAMERA_PROFILE } from '../../simulators/camera-sim.js';
import { DOOR_PROFILE } from '../../simulators/door-sim.js';
import { createRng } from '../../simulators/rng.js';

const T0 = Date.parse('2026-11-25T00:00:00Z');
const DAY_S = 24 * 3600;

function day(profile: typeof DOOR_PROFILE, seed: string, meanEveryS = 20): AlertPayload[] {
  const m = new AlertModel({ deviceId: 'door-0001', profile, rng: createRng(seed), startMs: T0, meanEveryS });
  const out: AlertPayload[] = [];
  // Uneven ticks, as a real timer gives: the alerts' own times must not depend on them.
  for (let t = T0; t <= T0 + DAY_S * 1000; t += 700) out.push(...m.tick(t));
  return out;
}

describe('alert model', () => {
  it('raises valid alerts of known types at about the configured rate, repeats included', () => {
    for (const [profile, name] of [
      [DOOR_PROFILE, 'door'],
      [CAMERA_PROFILE, 'camera'],
    ] as const) {
      const alerts = day(profile, name);
      const known: readonly string[] = ALERT_TYPES;
      const bad = alerts.filter(
        (a) => !alertSchema.safeParse(JSON.parse(JSON.stringify(a))).success || !known.includes(a.type) || !a.type.startsWith(`${name}.`),
      );
      expect(bad).toEqual([]);
      expect(new Set(alerts.map((a) => a.eventId)).size).toBe(alerts.length);
      expect(alerts.every((a, i) => i === 0 || a.ts >= (alerts[i - 1] as AlertPayload).ts)).toBe(true);
      // Poisson arrivals at 1/20 s, each followed by a geometric number of repeats (mean 1/(1-p)).
      const expected = DAY_S / 20 / (1 - profile.repeatChance);
      expect(alerts.length).toBeGreaterThan(expected * 0.9);
      expect(alerts.length).toBeLessThan(expected * 1.1);
      if (name === 'camera') expect(alerts.every((a) => a.snapshot?.startsWith('sim://'))).toBe(true);
    }
  });

  it('sometimes repeats the same type within a minute (the hub folds these)', () => {
    const alerts = day(DOOR_PROFILE, 'repeats', 600);
    const lastOfType = new Map<string, number>();
    const quickRepeats = alerts.filter((a) => {
      const prev = lastOfType.get(a.type);
      lastOfType.set(a.type, a.ts);
      return prev !== undefined && a.ts - prev <= 60_000;
    });
    expect(quickRepeats.length).toBeGreaterThan(alerts.length * 0.2);
  });

  it('is deterministic for a seed', () => {
    expect(day(CAMERA_PROFILE, 'x')).toEqual(day(CAMERA_PROFILE, 'x'));
    expect(day(CAMERA_PROFILE, 'x')).not.toEqual(day(CAMERA_PROFILE, 'y'));
  });
});
