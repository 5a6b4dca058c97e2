// How a simulated grid worker answers tasks, without I/O (issue #3 item 8): on an offer, accept
// (most), decline with a reason (some) or ignore it (a few) after a human reaction delay; walk to an
// accepted incident at walking speed, say "arrived" there, "resolved" after a handling time drawn per
// category, then go back to patrol; drop a cancelled task. Now and then the worker spots a problem on
// patrol and reports it ("人在格中走，事在格中办", seed 000). Seeded and clocked: the caller (HandsetModel)
// moves time forward with nextEventAt()/fire() and the walker, so a seed replays the same answers.
import type { ReportPayload, TaskMessage, TaskReplyPayload } from '../protocol/schemas.js';
import { fromLocal, gcj02ToWgs84, round7, toLocal, wgs84ToGcj02, type LatLon } from './geo-local.js';
import type { PatrolWalker } from './patrol-walker.js';
import type { Rng } from './rng.js';

export interface TaskBehaviourOptions {
  /** Share of offers accepted and declined when free; the rest are ignored (the hub times them out). */
  acceptShare: number;
  declineShare: number;
  /** Share of offers accepted while already on a task (queued); the rest are declined as busy. */
  busyAcceptShare: number;
  /**
   * Seconds between an offer arriving and the answer: at least the first, then an exponential tail
   * of mean `reactionMeanS` (most look at the phone within a minute, a few take long), capped at the
   * second and at 60 % of the accept window (a person who answers at all answers in time).
   */
  reactionS: readonly [number, number];
  reactionMeanS: number;
  /** A worker stops this far (at most) from the incident's point: arrival is within ~30 m. */
  stopWithinM: number;
  /** Minutes of work on site per category (prefix `door.` / `camera.` rows cover device alerts). */
  handlingMin: Readonly<Record<string, readonly [number, number]>>;
  /** Mean seconds of patrol between the worker's own reports; 0 turns reports off. */
  reportEveryS: number;
}

const HANDLING_MIN: TaskBehaviourOptions['handlingMin'] = {
  garbage: [10, 40],
  parking: [5, 20],
  noise: [10, 30],
  drain: [30, 120],
  road: [30, 150],
  streetlight: [15, 60],
  dispute: [30, 120],
  hazard: [20, 90],
  other: [10, 45],
  'camera.fire': [20, 60],
  'camera.smoke': [10, 30],
  'camera.fall': [10, 40],
  door: [3, 15],
  camera: [5, 25],
};

export const DEFAULT_TASK_BEHAVIOUR: Readonly<TaskBehaviourOptions> = Object.freeze({
  acceptShare: 0.85,
  declineShare: 0.1,
  busyAcceptShare: 0.5,
  reactionS: [10, 150] as const,
  reactionMeanS: 30,
  stopWithinM: 15,
  handlingMin: HANDLING_MIN,
  reportEveryS: 3 * 3600,
});

export type OfferDecision = { kind: 'accept'; atMs: number } | { kind: 'decline'; atMs: number; reason: string } | { kind: 'ignore' };

const DECLINE_REASONS: readonly (readonly [string, number])[] = [
  ['正在处理紧急事务，请改派', 3],
  ['该事项不属于本人职责', 2],
  ['身体不适，请改派', 1],
  ['距离较远，附近有其他网格员', 2],
];
export const BUSY_REASON = '正在处理其他任务';

/** Accept, decline or ignore an offer received at `now`; the answer comes after a reaction delay. */
export function decideOffer(
  offer: TaskMessage,
  now: number,
  busy: boolean,
  rng: Rng,
  o: TaskBehaviourOptions = DEFAULT_TASK_BEHAVIOUR,
): OfferDecision {
  const windowMs = offer.acceptBy !== undefined ? offer.acceptBy - now : Infinity;
  // Delivered after its deadline (the handset was out of coverage): the hub has moved on already.
  if (windowMs <= 0) return { kind: 'ignore' };
  const delayS = Math.min(o.reactionS[0] + rng.exponential(o.reactionMeanS), o.reactionS[1]);
  const atMs = now + Math.round(Math.min(delayS * 1000, windowMs * 0.6));
  if (busy) return rng.chance(o.busyAcceptShare) ? { kind: 'accept', atMs } : { kind: 'decline', atMs, reason: BUSY_REASON };
  const x = rng.next();
  if (x < o.acceptShare) return { kind: 'accept', atMs };
  if (x < o.acceptShare + o.declineShare) return { kind: 'decline', atMs, reason: rng.weighted(DECLINE_REASONS) };
  return { kind: 'ignore' };
}

/** Milliseconds of work on site: the category's row, else its family's (`door`, `camera`), else `other`. */
export function handlingMs(category: string | undefined, rng: Rng, o: TaskBehaviourOptions = DEFAULT_TASK_BEHAVIOUR): number {
  const c = category ?? 'other';
  const range = o.handlingMin[c] ?? o.handlingMin[c.split('.')[0] ?? ''] ?? o.handlingMin.other ?? [10, 45];
  return Math.round(rng.float(range[0], range[1]) * 60_000);
}

const RESOLVE_NOTES: Readonly<Record<string, string>> = {
  garbage: '垃圾已清运，现场已清理',
  parking: '已联系车主挪车',
  noise: '已劝导，噪音已停止',
  drain: '已疏通，积水已排除',
  road: '已设置警示并报住建维修',
  streetlight: '已报修，路灯恢复照明',
  dispute: '双方已达成调解协议',
  hazard: '隐患已排除',
  door: '已到现场查看，门禁已恢复正常',
  camera: '已到现场核实处置',
};
export function resolveNote(category: string | undefined): string {
  const c = category ?? 'other';
  return RESOLVE_NOTES[c] ?? RESOLVE_NOTES[c.split('.')[0] ?? ''] ?? '已处理完毕';
}

/** What a worker reports on patrol: category, weight, what they write, priority. */
const PATROL_FINDINGS: readonly (readonly [
  { category: string; text: string; priority: NonNullable<ReportPayload['priority']> },
  number,
])[] = [
  [{ category: 'garbage', text: '路边垃圾堆放，需清运', priority: 'normal' }, 30],
  [{ category: 'parking', text: '消防通道违规停车', priority: 'normal' }, 15],
  [{ category: 'road', text: '人行道地砖破损，易绊倒行人', priority: 'normal' }, 10],
  [{ category: 'drain', text: '下水道堵塞，路面积水', priority: 'normal' }, 10],
  [{ category: 'streetlight', text: '路灯不亮', priority: 'low' }, 10],
  [{ category: 'hazard', text: '楼道堆放杂物，存在消防隐患', priority: 'high' }, 10],
  [{ category: 'noise', text: '工地夜间施工噪音扰民', priority: 'normal' }, 5],
  [{ category: 'dispute', text: '邻里因漏水发生纠纷，需调解', priority: 'normal' }, 5],
  [{ category: 'other', text: '共享单车乱停放堵塞通道', priority: 'low' }, 5],
];

interface Task {
  taskId: string;
  incidentId: string;
  category: string | undefined;
  /** WGS-84 place of the incident; null when the offer carried none (work on the spot). */
  place: LatLon | null;
}

export type AgentOutput =
  | { kind: 'reply'; payload: TaskReplyPayload }
  | { kind: 'report'; payload: ReportPayload }
  /** Send a fix now (the moment of arrival), so the screen shows the worker at the incident. */
  | { kind: 'position' };

export interface TaskAgentOptions {
  handsetId: string;
  /** The datum the handset reports in; replies and reports use it too. */
  crs: 'wgs84' | 'gcj02';
  walker: PatrolWalker;
  rng: Rng;
  startMs: number;
  behaviour?: Partial<TaskBehaviourOptions>;
}

export class TaskAgent {
  private readonly o: TaskBehaviourOptions;
  private readonly rng: Rng;
  private readonly walker: PatrolWalker;
  /** Offers decided but not yet answered, by due time. */
  private pending: { task: Task; decision: Exclude<OfferDecision, { kind: 'ignore' }> }[] = [];
  private queue: Task[] = [];
  private active: { task: Task; stage: 'travel' | 'on_site'; doneAt: number } | null = null;
  private readonly seen = new Set<string>();
  private nextReportAt: number;
  private reports = 0;
  readonly stats = { offers: 0, accepted: 0, declined: 0, ignored: 0, arrived: 0, resolved: 0, cancelled: 0, reports: 0 };

  constructor(private readonly opts: TaskAgentOptions) {
    this.o = { ...DEFAULT_TASK_BEHAVIOUR, ...opts.behaviour };
    this.rng = opts.rng;
    this.walker = opts.walker;
    this.nextReportAt = this.drawReportAt(opts.startMs);
  }

  /** On a task or with accepted work waiting. */
  get busy(): boolean {
    return this.active !== null || this.queue.length > 0;
  }

  get activeTask(): { taskId: string; stage: 'travel' | 'on_site' } | null {
    return this.active ? { taskId: this.active.task.taskId, stage: this.active.stage } : null;
  }

  /** A message from the hub, received at `now`. */
  onTask(msg: TaskMessage, now: number): void {
    switch (msg.kind) {
      case 'offer': {
        // QoS 1 may deliver an offer twice; a worker answers it once.
        if (this.seen.has(msg.taskId)) return;
        this.seen.add(msg.taskId);
        this.stats.offers++;
        const decision = decideOffer(msg, now, this.busy, this.rng, this.o);
        if (decision.kind === 'ignore') {
          this.stats.ignored++;
          return;
        }
        this.pending.push({
          task: { taskId: msg.taskId, incidentId: msg.incidentId, category: msg.category, place: placeOf(msg) },
          decision,
        });
        this.pending.sort((a, b) => a.decision.atMs - b.decision.atMs);
        return;
      }
      case 'cancel': {
        const before = this.pending.length + this.queue.length + (this.active ? 1 : 0);
        this.pending = this.pending.filter((p) => p.task.taskId !== msg.taskId);
        this.queue = this.queue.filter((t) => t.taskId !== msg.taskId);
        if (this.active?.task.taskId === msg.taskId) {
          this.active = null;
          this.startNext(now);
        }
        if (this.pending.length + this.queue.length + (this.active ? 1 : 0) < before) this.stats.cancelled++;
        return;
      }
      case 'update': {
        const place = placeOf(msg);
        if (!place) return;
        for (const t of [...this.pending.map((p) => p.task), ...this.queue]) if (t.taskId === msg.taskId) t.place = place;
        if (this.active?.task.taskId === msg.taskId) {
          this.active.task.place = place;
          if (this.active.stage === 'travel') this.walker.goTo(this.stopNear(place));
        }
        return;
      }
    }
  }

  /**
   * When the next thing happens, given the walker has been advanced to `cursor`: an answer falls
   * due, the worker reaches the incident, the work is done, or a patrol report.
   */
  nextEventAt(cursor: number): number {
    let at = this.pending[0]?.decision.atMs ?? Infinity;
    if (this.active?.stage === 'travel') at = Math.min(at, Math.ceil(cursor + ((this.walker.remainingM ?? 0) / this.walker.pace) * 1000));
    if (this.active?.stage === 'on_site') at = Math.min(at, this.active.doneAt);
    return Math.min(at, this.nextReportAt);
  }

  /** Everything due at `at` (the walker already stands where it is at `at`). */
  fire(at: number): AgentOutput[] {
    const out: AgentOutput[] = [];
    while (this.pending[0] && this.pending[0].decision.atMs <= at) {
      const { task, decision } = this.pending.shift() as (typeof this.pending)[number];
      if (decision.kind === 'decline') {
        this.stats.declined++;
        out.push({ kind: 'reply', payload: { ts: decision.atMs, taskId: task.taskId, reply: 'decline', reason: decision.reason } });
        continue;
      }
      this.stats.accepted++;
      out.push({ kind: 'reply', payload: { ts: decision.atMs, taskId: task.taskId, reply: 'accept' } });
      this.queue.push(task);
      if (!this.active) out.push(...this.startNext(decision.atMs));
    }
    if (this.active?.stage === 'travel' && (this.walker.remainingM ?? 0) < 0.01) out.push(...this.arrive(at));
    if (this.active?.stage === 'on_site' && this.active.doneAt <= at) {
      const { task } = this.active;
      this.stats.resolved++;
      out.push({
        kind: 'reply',
        payload: { ts: at, taskId: task.taskId, reply: 'resolved', note: resolveNote(task.category), ...this.here() },
      });
      this.active = null;
      out.push(...this.startNext(at));
    }
    if (this.nextReportAt <= at) {
      // Only a worker on patrol looks around for problems; one on a task reports later.
      if (!this.busy) out.push({ kind: 'report', payload: this.report(at) });
      this.nextReportAt = this.drawReportAt(at);
    }
    return out;
  }

  private startNext(at: number): AgentOutput[] {
    const task = this.queue.shift();
    if (!task) {
      this.walker.resumePatrol();
      return [];
    }
    this.active = { task, stage: 'travel', doneAt: Infinity };
    // No place in the offer: the job is where the worker stands.
    if (!task.place) return this.arrive(at);
    this.walker.goTo(this.stopNear(task.place));
    return [];
  }

  private arrive(at: number): AgentOutput[] {
    if (!this.active) return [];
    this.stats.arrived++;
    this.active.stage = 'on_site';
    this.active.doneAt = at + handlingMs(this.active.task.category, this.rng, this.o);
    if (!this.active.task.place) this.walker.goTo(this.walker.state);
    return [
      { kind: 'position' },
      { kind: 'reply', payload: { ts: at, taskId: this.active.task.taskId, reply: 'arrived', ...this.here() } },
    ];
  }

  /** Where a person stops: a few metres from the reported point, not on it. */
  private stopNear(p: LatLon): LatLon {
    const r = this.rng.float(0, this.o.stopWithinM);
    const a = this.rng.float(0, 2 * Math.PI);
    return fromLocal(p, r * Math.sin(a), r * Math.cos(a));
  }

  /** The worker's position in the handset's datum: a handset app attaches it to what it sends. */
  private here(): { lat: number; lon: number; crs?: 'gcj02' } {
    const s = this.walker.state;
    if (this.opts.crs !== 'gcj02') return { lat: round7(s.lat), lon: round7(s.lon) };
    const g = wgs84ToGcj02(s);
    return { lat: round7(g.lat), lon: round7(g.lon), crs: 'gcj02' };
  }

  private report(at: number): ReportPayload {
    const f = this.rng.weighted(PATROL_FINDINGS);
    this.stats.reports++;
    const n = ++this.reports;
    // The problem is a few metres off the path: across the street, at the kerb.
    const s = this.walker.state;
    const spot = fromLocal(s, this.rng.float(-20, 20), this.rng.float(-20, 20));
    const pos = this.opts.crs === 'gcj02' ? { ...wgs84ToGcj02(spot), crs: 'gcj02' as const } : spot;
    return {
      ts: at,
      reportId: `${this.opts.handsetId}-r${n}`,
      category: f.category,
      description: f.text,
      lat: round7(pos.lat),
      lon: round7(pos.lon),
      ...('crs' in pos ? { crs: pos.crs } : {}),
      photos: [`photo://${this.opts.handsetId}/${at}-${n}.jpg`],
      priority: f.priority,
    };
  }

  private drawReportAt(from: number): number {
    return this.o.reportEveryS > 0 ? from + Math.round(this.rng.exponential(this.o.reportEveryS) * 1000) : Infinity;
  }
}

/** An offer's place in WGS-84 (the hub sends what it stores, WGS-84, unless it says otherwise). */
function placeOf(msg: TaskMessage): LatLon | null {
  if (msg.lat === undefined || msg.lon === undefined) return null;
  const p = { lat: msg.lat, lon: msg.lon };
  return (msg as { crs?: unknown }).crs === 'gcj02' ? gcj02ToWgs84(p) : p;
}

/** Metres between two WGS-84 points (local plane; fine over a district). */
export function distanceM(a: LatLon, b: LatLon): number {
  const d = toLocal(a, b);
  return Math.hypot(d.x, d.y);
}
