// When a fixed device (door access, camera) raises an alert, without I/O. Alerts arrive as a
// Poisson process (exponential gaps, mean meanEveryS per device); some are followed within a
// minute by more of the same type, as real devices do (a door held open reports again and again),
// which the hub must fold into one incident with a count (DESIGN §4).
import type { AlertPayload } from '../protocol/schemas.js';
import type { Rng } from './rng.js';

export interface AlertKind {
  type: string;
  /** Relative frequency among this device's alerts. */
  weight: number;
  severity: NonNullable<AlertPayload['severity']>;
  confidence: readonly [number, number];
  /** Extra facts, as the device would send them. */
  data?: (rng: Rng) => Record<string, unknown>;
}

export interface AlertProfile {
  kinds: readonly AlertKind[];
  /** Chance that an alert is repeated within the minute. */
  repeatChance: number;
  /** Repeats come this many seconds after the previous one. */
  repeatAfterS: readonly [number, number];
  /** Cameras attach a snapshot reference. */
  snapshot?: boolean;
}

export interface AlertModelOptions {
  deviceId: string;
  profile: AlertProfile;
  rng: Rng;
  startMs: number;
  meanEveryS: number;
}

export class AlertModel {
  private nextAt: number;
  /** Pending repeats: when, and of which kind. */
  private repeats: { at: number; kind: AlertKind }[] = [];
  private seq = 0;

  constructor(private readonly o: AlertModelOptions) {
    this.nextAt = o.startMs + o.rng.exponential(o.meanEveryS) * 1000;
  }

  /** Every alert due by `now`, in time order, each stamped with its own time. */
  tick(now: number): AlertPayload[] {
    const out: AlertPayload[] = [];
    for (;;) {
      this.repeats.sort((a, b) => a.at - b.at);
      const repeat = this.repeats[0];
      const at = Math.min(this.nextAt, repeat?.at ?? Infinity);
      if (at > now) break;
      let kind: AlertKind;
      if (repeat && repeat.at === at) {
        this.repeats.shift();
        kind = repeat.kind;
      } else {
        this.nextAt += this.o.rng.exponential(this.o.meanEveryS) * 1000;
        kind = this.o.rng.weighted(this.o.profile.kinds.map((k) => [k, k.weight] as const));
      }
      out.push(this.alert(Math.round(at), kind));
      // Repeats may repeat again, each with the same chance: bursts of 2, 3, … of one type.
      if (this.o.rng.chance(this.o.profile.repeatChance)) {
        const [min, max] = this.o.profile.repeatAfterS;
        this.repeats.push({ at: at + this.o.rng.float(min, max) * 1000, kind });
      }
    }
    return out;
  }

  private alert(ts: number, kind: AlertKind): AlertPayload {
    const { rng, deviceId, profile } = this.o;
    const eventId = `${deviceId}-${ts.toString(36)}-${this.seq++}`;
    const confidence = Math.round(rng.float(kind.confidence[0], kind.confidence[1]) * 100) / 100;
    return {
      ts,
      type: kind.type,
      eventId,
      severity: kind.severity,
      confidence,
      ...(profile.snapshot ? { snapshot: `sim://snapshots/${deviceId}/${eventId}.jpg` } : {}),
      ...(kind.data ? { data: kind.data(rng) } : {}),
    };
  }
}
