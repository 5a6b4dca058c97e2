// Simulated residents on the hub's public complaint API (the 12345 channel): file a complaint, keep
// the receipt (id + token), check its status now and then, and rate it once it is resolved; an
// unsatisfied rating reopens the case and the resident rates again after the next resolution.
// resident-model.ts decides (seeded); this file does the HTTP. Time comes from the injected clock;
// the caller drives tick() (sim-day runs one timer for everyone).
import type { Clock } from '../common/clock.js';
import type { Logger } from '../common/logger.js';
import type { DemoDistrict } from './demo-district.js';
import { field, requestJson } from './http-json.js';
import {
  DEFAULT_RESIDENT_BEHAVIOUR,
  newComplaint,
  nextComplaintAt,
  ratingFor,
  type Complaint,
  type ResidentBehaviourOptions,
} from './resident-model.js';
import type { Rng } from './rng.js';

export interface ResidentSimOptions {
  httpUrl: string;
  district: DemoDistrict;
  clock: Clock;
  rng: Rng;
  logger: Logger;
  behaviour?: Partial<ResidentBehaviourOptions>;
  /** Requests in flight at most; the rest wait for a later tick. */
  maxInFlight?: number;
}

export interface ResidentCase {
  n: number;
  complaint: Complaint;
  id: string | null;
  token: string | null;
  filedAt: number;
  state: string;
  /** Ratings given so far, and the scores. */
  scores: number[];
  done: boolean;
}

interface Tracked extends ResidentCase {
  rng: Rng;
  nextAt: number;
  action: 'file' | 'poll' | 'rate';
  rating: { score: number; comment?: string } | null;
  busy: boolean;
}

const FINISHED = ['closed', 'cancelled'];
const RATABLE = ['resolved', 'verified'];

export class ResidentSim {
  readonly stats = { filed: 0, fileRejected: 0, polls: 0, satisfied: 0, unsatisfied: 0, silent: 0, done: 0, httpErrors: 0 };
  private readonly o: ResidentBehaviourOptions;
  private readonly cases: Tracked[] = [];
  private nextFileAt = Infinity;
  private inFlight = new Set<Promise<void>>();
  private stopped = false;
  private readonly log: Logger;

  constructor(private readonly opts: ResidentSimOptions) {
    this.o = { ...DEFAULT_RESIDENT_BEHAVIOUR, ...opts.behaviour };
    this.log = opts.logger.child({ mod: 'resident-sim' });
  }

  get all(): readonly ResidentCase[] {
    return this.cases;
  }

  start(): void {
    this.nextFileAt = nextComplaintAt(this.opts.clock.now(), this.opts.rng, this.o.perHour);
  }

  /** Files complaints due by now and runs each resident's due check or rating. */
  tick(): void {
    if (this.stopped) return;
    const now = this.opts.clock.now();
    while (this.nextFileAt <= now) {
      const n = this.cases.length + 1;
      // Each complaint has its own stream: what it says and how it is rated do not depend on HTTP timing.
      const rng = this.opts.rng.fork(`complaint:${n}`);
      this.cases.push({
        n,
        complaint: newComplaint(this.opts.district, rng, this.o),
        id: null,
        token: null,
        filedAt: this.nextFileAt,
        state: 'new',
        scores: [],
        done: false,
        rng,
        nextAt: this.nextFileAt,
        action: 'file',
        rating: null,
        busy: false,
      });
      this.nextFileAt = nextComplaintAt(this.nextFileAt, this.opts.rng, this.o.perHour);
    }
    const max = this.opts.maxInFlight ?? 16;
    for (const c of this.cases) {
      if (this.inFlight.size >= max) break;
      if (c.done || c.busy || c.nextAt > now) continue;
      c.busy = true;
      const p = this.act(c, now)
        .catch((err: unknown) => {
          this.stats.httpErrors++;
          if (this.stats.httpErrors <= 3) this.log.warn({ err: String(err), action: c.action }, 'resident request failed; will retry');
          c.nextAt = this.opts.clock.now() + 60_000;
        })
        .finally(() => {
          c.busy = false;
          this.inFlight.delete(p);
        });
      this.inFlight.add(p);
    }
  }

  /** Resolves when no request is in flight. */
  async settle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.settle();
  }

  private url(path: string): string {
    return `${this.opts.httpUrl}${path}`;
  }

  private async act(c: Tracked, now: number): Promise<void> {
    switch (c.action) {
      case 'file': {
        const { place: _place, ...body } = c.complaint;
        const r = await requestJson(this.url('/api/complaints'), { body });
        if (r.status !== 201) {
          // Refused (a validation bug, a full queue): counted and given up, as a resident would.
          this.stats.fileRejected++;
          if (this.stats.fileRejected <= 3) this.log.warn({ status: r.status, body: r.json }, 'complaint refused');
          c.done = true;
          return;
        }
        this.stats.filed++;
        c.id = String(field(r.json, 'id'));
        c.token = String(field(r.json, 'token'));
        c.state = String(field(r.json, 'state') ?? 'reported');
        return this.pollLater(c, now);
      }
      case 'poll': {
        this.stats.polls++;
        const r = await requestJson(
          this.url(`/api/complaints/${encodeURIComponent(c.id ?? '')}/status?token=${encodeURIComponent(c.token ?? '')}`),
        );
        if (r.status !== 200) throw new Error(`status ${r.status}`);
        c.state = String(field(r.json, 'state'));
        if (FINISHED.includes(c.state)) return this.finish(c);
        if (!RATABLE.includes(c.state)) return this.pollLater(c, now);
        const d = ratingFor(c.scores.length, c.rng, this.o);
        if (d.kind === 'silent') {
          this.stats.silent++;
          return this.finish(c);
        }
        c.rating = { score: d.score, ...(d.comment ? { comment: d.comment } : {}) };
        c.action = 'rate';
        c.nextAt = now + Math.round(c.rng.float(this.o.rateAfterS[0], this.o.rateAfterS[1]) * 1000);
        return;
      }
      case 'rate': {
        const rating = c.rating ?? { score: 5 };
        const r = await requestJson(this.url(`/api/complaints/${encodeURIComponent(c.id ?? '')}/rating`), {
          body: { token: c.token, ...rating },
        });
        c.rating = null;
        if (r.status === 409) return this.pollLater(c, now); // no longer ratable (reopened meanwhile): look again later
        if (r.status !== 200) throw new Error(`rating ${r.status}`);
        c.scores.push(rating.score);
        c.state = String(field(r.json, 'state'));
        if (rating.score <= 2) {
          this.stats.unsatisfied++;
          return this.pollLater(c, now);
        }
        this.stats.satisfied++;
        return this.finish(c);
      }
    }
  }

  private pollLater(c: Tracked, now: number): void {
    c.action = 'poll';
    c.nextAt = now + Math.round(this.o.pollEveryS * c.rng.float(0.5, 1.5) * 1000);
  }

  private finish(c: Tracked): void {
    c.done = true;
    this.stats.done++;
  }
}
