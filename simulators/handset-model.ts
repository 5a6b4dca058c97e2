// What one simulated handset does, without any I/O: walk, make a fix every fixEveryS, drain the
// battery, lose the network now and then (buffering fixes) and upload the buffer when back.
// It also carries the worker's task behaviour (task-behaviour.ts): answers to offers, the walk to an
// incident, arrival, resolution, patrol reports. Time moves in events: every scheduled fix and every
// moment the task agent acts at (an answer falls due, the worker arrives, the work is done), so the
// walker stands exactly where it should at each of them, whatever the caller's tick rate.
// handset-sim.ts turns the outputs into MQTT; tests drive this with a manual clock.
import type { Polygon } from 'geojson';
import type { Fix, ReportPayload, StatusPayload, TaskMessage, TaskReplyPayload } from '../protocol/schemas.js';
import type { DemoHandset } from './demo-district.js';
import { round7, wgs84ToGcj02 } from './geo-local.js';
import { PatrolWalker } from './patrol-walker.js';
import type { Rng } from './rng.js';
import { TaskAgent, type AgentOutput, type TaskBehaviourOptions } from './task-behaviour.js';

export type HandsetOutput =
  | { kind: 'fix'; payload: Fix }
  | { kind: 'batch'; payload: { fixes: Fix[] } }
  | { kind: 'status'; payload: StatusPayload }
  /** An answer to a task: accept, decline, arrived, resolved. */
  | { kind: 'reply'; payload: TaskReplyPayload }
  /** The worker's own patrol report. */
  | { kind: 'report'; payload: ReportPayload }
  /** The network is gone: disconnect abruptly (the broker then publishes the last will). */
  | { kind: 'go-offline'; untilMs: number }
  /** The network is back: reconnect; the buffer goes up once connected (see onConnected). */
  | { kind: 'go-online' };

export interface HandsetModelOptions {
  handset: DemoHandset;
  polygon: Polygon;
  rng: Rng;
  startMs: number;
  fixEveryS: number;
  statusEveryS?: number;
  /** Share of handsets that lose the network from time to time (a seeded draw per handset). */
  flakyShare?: number;
  /** Mean time between outages of a flaky handset. */
  outageEveryS?: number;
  outageS?: readonly [number, number];
  /** Fixes per store-and-forward message; the contract allows up to MAX_FIXES_PER_BATCH. */
  batchSize?: number;
  /** How the worker answers tasks and how often they report on patrol. */
  tasks?: Partial<TaskBehaviourOptions>;
}

export class HandsetModel {
  readonly walker: PatrolWalker;
  readonly flaky: boolean;
  readonly agent: TaskAgent;
  private readonly o: Required<Omit<HandsetModelOptions, 'handset' | 'polygon' | 'rng' | 'startMs' | 'tasks'>>;
  private readonly rng: Rng;
  private nextFixAt: number;
  private nextStatusAt: number;
  private nextOutageAt: number;
  private outageEndsAt = 0;
  private seq = 0;
  private battery: number;
  /** Percent per second. */
  private readonly drain: number;
  private buffer: Fix[] = [];
  /** Replies and reports made out of coverage: a handset app sends them when back. */
  private outbox: HandsetOutput[] = [];
  /** The time the walker has been moved to. */
  private cursor: number;
  online = true;

  constructor(private readonly opts: HandsetModelOptions) {
    this.o = {
      statusEveryS: 60,
      flakyShare: 0.25,
      outageEveryS: 600,
      outageS: [45, 240],
      batchSize: 100,
      ...stripUndefined(opts),
      fixEveryS: opts.fixEveryS,
    };
    this.rng = opts.rng;
    this.walker = new PatrolWalker(opts.polygon, this.rng.fork('walk'));
    this.flaky = this.rng.chance(this.o.flakyShare);
    this.battery = this.rng.float(55, 100);
    // 3-8 % an hour: a shift of eight hours ends in the yellow, not dead.
    this.drain = this.rng.float(3, 8) / 3600;
    // Handsets do not tick in lockstep: the first fix comes somewhere within the first period.
    this.nextFixAt = opts.startMs + Math.round(this.rng.float(0, this.o.fixEveryS * 1000));
    this.nextStatusAt = opts.startMs + this.o.statusEveryS * 1000;
    this.nextOutageAt = this.flaky ? opts.startMs + this.rng.exponential(this.o.outageEveryS) * 1000 : Infinity;
    this.cursor = opts.startMs;
    // Its own stream: answering tasks does not shift the walk, outages or fix noise of a seed.
    this.agent = new TaskAgent({
      handsetId: opts.handset.id,
      crs: opts.handset.crs,
      walker: this.walker,
      rng: this.rng.fork('tasks'),
      startMs: opts.startMs,
      ...(opts.tasks ? { behaviour: opts.tasks } : {}),
    });
  }

  /** A message from the hub on this handset's tasks topic, received at `now`. */
  onTask(msg: TaskMessage, now: number): void {
    this.agent.onTask(msg, now);
  }

  /** Fixes not yet uploaded (taken while offline). */
  get buffered(): number {
    return this.buffer.length;
  }

  get batteryLevel(): number {
    return Math.round(this.battery);
  }

  status(now: number): StatusPayload {
    return { ts: now, duty: 'on', battery: this.batteryLevel };
  }

  /** Everything due up to `now`, in time order. Fixes carry their scheduled time, not the tick's. */
  tick(now: number): HandsetOutput[] {
    const out: HandsetOutput[] = [];
    const period = this.o.fixEveryS * 1000;
    for (let guard = 0; guard < 1_000_000; guard++) {
      const eventAt = this.agent.nextEventAt(this.cursor);
      const t = Math.min(eventAt, this.nextFixAt);
      if (t > now) break;
      this.walkTo(t);
      if (eventAt <= t) {
        for (const a of this.agent.fire(t)) this.performAgent(a, t, out);
        continue;
      }
      this.nextFixAt += period;
      this.battery = Math.max(3, this.battery - this.drain * (period / 1000));
      if (this.online && t >= this.nextOutageAt) {
        this.online = false;
        this.outageEndsAt = t + this.rng.float(this.o.outageS[0], this.o.outageS[1]) * 1000;
        out.push({ kind: 'go-offline', untilMs: this.outageEndsAt });
      } else if (!this.online && t >= this.outageEndsAt) {
        this.online = true;
        this.nextOutageAt = t + this.rng.exponential(this.o.outageEveryS) * 1000;
        out.push({ kind: 'go-online' });
      }
      this.emitFix(t, out);
    }
    if (this.online && now >= this.nextStatusAt) {
      this.nextStatusAt = now + this.o.statusEveryS * 1000;
      out.push({ kind: 'status', payload: this.status(now) });
    }
    return out;
  }

  private walkTo(t: number): void {
    if (t > this.cursor) this.walker.advance((t - this.cursor) / 1000);
    this.cursor = Math.max(this.cursor, t);
  }

  private emitFix(t: number, out: HandsetOutput[]): void {
    const fix = this.makeFix(t);
    if (this.online) out.push({ kind: 'fix', payload: fix });
    else this.buffer.push(fix);
  }

  private performAgent(a: AgentOutput, t: number, out: HandsetOutput[]): void {
    if (a.kind === 'position') return this.emitFix(t, out);
    const o: HandsetOutput = a.kind === 'reply' ? { kind: 'reply', payload: a.payload } : { kind: 'report', payload: a.payload };
    // Behind answers still waiting for the reconnect, so the hub gets accept before arrived.
    if (this.online && this.outbox.length === 0) out.push(o);
    else this.outbox.push(o);
  }

  /**
   * Called on every (re)connect: status, then the buffered fixes as store-and-forward batches,
   * deliberately shuffled, as a handset that uploads from several threads would send them. The
   * hub must still build the right trail (DESIGN §5).
   */
  onConnected(now: number): HandsetOutput[] {
    const out: HandsetOutput[] = [{ kind: 'status', payload: this.status(now) }];
    const shuffled = this.rng.shuffle(this.buffer);
    this.buffer = [];
    for (let i = 0; i < shuffled.length; i += this.o.batchSize) {
      out.push({ kind: 'batch', payload: { fixes: shuffled.slice(i, i + this.o.batchSize) } });
    }
    // Task answers and reports after the trail that leads to them.
    out.push(...this.outbox);
    this.outbox = [];
    return out;
  }

  private makeFix(ts: number): Fix {
    const s = this.walker.state;
    const gcj = this.opts.handset.crs === 'gcj02';
    const { lat, lon } = gcj ? wgs84ToGcj02(s) : s;
    return {
      ts,
      lat: round7(lat),
      lon: round7(lon),
      acc: Math.round(this.rng.float(3, 15)),
      alt: Math.round(this.rng.float(40, 60)),
      speed: Math.round(s.speed * 100) / 100,
      heading: s.heading,
      battery: this.batteryLevel,
      seq: this.seq++,
      ...(gcj ? { crs: 'gcj02' as const } : {}),
    };
  }
}

/** Spreading options over defaults must not let an explicit `undefined` erase a default. */
function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
