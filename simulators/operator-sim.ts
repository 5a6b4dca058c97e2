// A simulated person at the command screen: the grid leader / duty operator who checks resolved
// cases and verifies them (DESIGN §4 Closure: "the worker resolves, the reporter or grid leader
// verifies"). It logs in like anyone else, lists resolved incidents over the HTTP API every few
// simulated minutes, and verifies each one a while after it was resolved, at the version it saw.
// Seeded, clocked; the caller drives tick().
import type { Clock } from '../common/clock.js';
import type { Logger } from '../common/logger.js';
import { field, requestJson } from './http-json.js';
import type { Rng } from './rng.js';

export interface OperatorSimOptions {
  httpUrl: string;
  clock: Clock;
  rng: Rng;
  logger: Logger;
  /** An operator account (the hub requires a login unless AUTH_REQUIRED=false). */
  credentials?: { username: string; password: string };
  /** Simulated seconds between looks at the list. */
  pollEveryS?: number;
  /** Simulated seconds from "resolved" to the check on site or on the photos. */
  verifyAfterS?: readonly [number, number];
}

interface Due {
  version: number;
  at: number;
}

export class OperatorSim {
  readonly stats = { polls: 0, verified: 0, conflicts: 0, httpErrors: 0 };
  private bearer: string | null = null;
  private nextPollAt = 0;
  private busy = false;
  private readonly due = new Map<string, Due>();
  private inFlight: Promise<void> | null = null;
  private stopped = false;
  private readonly log: Logger;

  constructor(private readonly o: OperatorSimOptions) {
    this.log = o.logger.child({ mod: 'operator-sim' });
  }

  async start(): Promise<void> {
    if (this.o.credentials) {
      const r = await requestJson(`${this.o.httpUrl}/api/auth/login`, { body: { ...this.o.credentials, bearer: true } });
      // A hub without logins (no auth service wired) has no login route: every screen may act.
      if (r.status === 404) {
        this.log.info('the hub has no login; acting without a session');
        this.nextPollAt = this.o.clock.now();
        return;
      }
      const token = field(r.json, 'token');
      if (r.status !== 200 || typeof token !== 'string') throw new Error(`operator login failed (${r.status})`);
      this.bearer = token;
    }
    this.nextPollAt = this.o.clock.now();
  }

  tick(): void {
    if (this.stopped || this.busy) return;
    this.busy = true;
    this.inFlight = this.round()
      .catch((err: unknown) => {
        this.stats.httpErrors++;
        if (this.stats.httpErrors <= 3) this.log.warn({ err: String(err) }, 'operator request failed; will retry');
      })
      .finally(() => {
        this.busy = false;
        this.inFlight = null;
      });
  }

  async settle(): Promise<void> {
    await this.inFlight;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.settle();
  }

  private async round(): Promise<void> {
    const now = this.o.clock.now();
    if (now >= this.nextPollAt) {
      this.nextPollAt = now + (this.o.pollEveryS ?? 300) * 1000;
      await this.look(now);
    }
    for (const [id, d] of [...this.due]) {
      if (d.at > this.o.clock.now()) continue;
      this.due.delete(id);
      const r = await requestJson(`${this.o.httpUrl}/api/incidents/${encodeURIComponent(id)}/actions`, {
        body: { type: 'verify', expectedVersion: d.version, reason: '网格长核查：现场已处理 / checked by the grid leader' },
        bearer: this.bearer,
      });
      // Someone moved first (the resident rated, or it was reopened): the next look decides again.
      if (r.status === 409) this.stats.conflicts++;
      else if (r.status === 200) this.stats.verified++;
      else throw new Error(`verify ${id}: ${r.status} ${JSON.stringify(r.json)}`);
    }
  }

  private async look(now: number): Promise<void> {
    this.stats.polls++;
    const r = await requestJson(`${this.o.httpUrl}/api/incidents?state=resolved&limit=1000`, { bearer: this.bearer });
    if (r.status !== 200) throw new Error(`list: ${r.status}`);
    const items = field(r.json, 'items');
    if (!Array.isArray(items)) return;
    const [lo, hi] = this.o.verifyAfterS ?? [300, 1800];
    for (const x of items) {
      const id = field(x, 'id');
      const version = field(x, 'version');
      const updatedAt = field(x, 'updatedAt');
      if (typeof id !== 'string' || typeof version !== 'number') continue;
      if (this.due.get(id)?.version === version) continue;
      const since = typeof updatedAt === 'number' ? updatedAt : now;
      this.due.set(id, { version, at: Math.max(now, since + Math.round(this.o.rng.float(lo, hi) * 1000)) });
    }
  }
}
