// How many password checks run at once, and how fast a failed one is answered.
//
// ConcurrencyLimit: at most `max` scrypt verifications at once; the rest wait in arrival order.
// Since issue 14 device secrets are checked by one HMAC on the event loop and only rows still in the
// scrypt form (before their first connect after the upgrade) come here. scrypt runs on libuv's pool
// (4 threads by default); a connect storm otherwise keeps every pool thread busy and on a 2-core
// machine takes the CPU away from ingest (decision 006). Checks from an address that has already
// failed for that device wait behind everyone else's: a storm of wrong secrets cannot queue in
// front of a legitimate device.
//
// FailureBackoff (issue 16 item 9): after a few wrong secrets the next refusals of that address and
// device id are answered later and later, capped. Only refusals wait: a right secret is checked and
// answered at once whatever happened before, so guessing from one address can never lock the real
// device out (it connects from its own address, and even behind the same NAT it is not held).
// Per address over all ids too (one address enumerating ids), with a cap on refusals held at once
// per address and overall, so holding them cannot itself become the way to exhaust the broker.

export type Priority = 'high' | 'low';

export class ConcurrencyLimit {
  private active = 0;
  private highest = 0;
  // FIFOs without Array#shift (O(n) on a large array): a head index each, compacted now and then.
  private readonly waiting: Record<Priority, { items: (() => void)[]; head: number }> = {
    high: { items: [], head: 0 },
    low: { items: [], head: 0 },
  };

  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new Error(`concurrency limit must be a positive integer, got ${max}`);
  }

  /** Verifications running now. */
  get running(): number {
    return this.active;
  }

  /** Waiting for a slot now. */
  get queued(): number {
    return this.waiting.high.items.length - this.waiting.high.head + this.waiting.low.items.length - this.waiting.low.head;
  }

  /** The most that ever ran at once (tests check it never exceeds `max`). */
  get peak(): number {
    return this.highest;
  }

  /** Runs `task` when a slot is free; 'low' tasks start only when no 'high' task waits. */
  async run<T>(task: () => Promise<T>, priority: Priority = 'high'): Promise<T> {
    await this.acquire(priority);
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  private acquire(priority: Priority): Promise<void> | void {
    if (this.active < this.max) {
      this.take();
      return;
    }
    return new Promise<void>((resolve) => this.waiting[priority].items.push(resolve));
  }

  private take(): void {
    this.active++;
    if (this.active > this.highest) this.highest = this.active;
  }

  private release(): void {
    this.active--;
    const q = this.waiting.high.head < this.waiting.high.items.length ? this.waiting.high : this.waiting.low;
    if (q.head >= q.items.length) return;
    const next = q.items[q.head]!;
    q.items[q.head++] = noop;
    if (q.head > 1024 && q.head * 2 > q.items.length) {
      q.items = q.items.slice(q.head);
      q.head = 0;
    }
    this.take();
    next();
  }
}

function noop(): void {}

export interface BackoffPolicy {
  /** Wrong secrets of one address for one id answered at once; each further one waits longer. */
  pairFree: number;
  /** Wrong secrets of one address over all ids answered at once (a NAT hides many devices). */
  addressFree: number;
  /** The first delay; each further failure doubles it, up to `maxDelayMs`. */
  firstDelayMs: number;
  /** Below MQTT clients' connect timeouts (MQTT.js 30 s) and the broker's own 10 s. */
  maxDelayMs: number;
  /** Refusals held at once from one address; beyond, the connection is closed unanswered. */
  maxHeldPerAddress: number;
  /** Refusals held at once overall. */
  maxHeld: number;
  /** A counter with no failure for this long starts again from zero. */
  forgetAfterMs: number;
  /** Counters kept per map; the least recently failed are forgotten first. */
  maxTracked: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = {
  pairFree: 3,
  addressFree: 30,
  firstDelayMs: 500,
  maxDelayMs: 8000,
  maxHeldPerAddress: 256,
  maxHeld: 10_000,
  forgetAfterMs: 15 * 60_000,
  maxTracked: 100_000,
};

interface Count {
  n: number;
  last: number;
}

export interface BackoffVerdict {
  /** How long to hold the refusal. */
  delayMs: number;
  /** Which counter set it ('none' below both thresholds). */
  scope: 'none' | 'pair' | 'address';
  pairFailures: number;
  addressFailures: number;
  /** Failures for this id from every address (distributed guessing shows here; not delayed on). */
  idFailures: number;
}

export class FailureBackoff {
  readonly policy: BackoffPolicy;
  private readonly pairs = new Map<string, Count>();
  private readonly addresses = new Map<string, Count>();
  private readonly ids = new Map<string, Count>();
  private readonly heldBy = new Map<string, number>();
  private heldTotal = 0;

  constructor(
    policy: Partial<BackoffPolicy> = {},
    private readonly now: () => number = Date.now,
  ) {
    this.policy = { ...DEFAULT_BACKOFF, ...policy };
  }

  /** Counts a refusal (wrong or unknown credentials) and says how long to hold its answer. */
  failed(address: string, id: string): BackoffVerdict {
    const now = this.now();
    const pairFailures = this.bump(this.pairs, `${address}\n${id}`, now);
    const addressFailures = this.bump(this.addresses, address, now);
    const idFailures = this.bump(this.ids, id, now);
    const byPair = this.delay(pairFailures, this.policy.pairFree);
    const byAddress = this.delay(addressFailures, this.policy.addressFree);
    const delayMs = Math.max(byPair, byAddress);
    const scope = delayMs === 0 ? 'none' : byPair >= byAddress ? 'pair' : 'address';
    return { delayMs, scope, pairFailures, addressFailures, idFailures };
  }

  /** The right secret from this address: its own failures for this id are forgiven. The address's
   *  count stays (a device behind an attacker's NAT must not clear the attacker's record). */
  succeeded(address: string, id: string): void {
    this.pairs.delete(`${address}\n${id}`);
  }

  /** Whether this address has failed for this id lately (its scrypt checks then wait behind). */
  suspect(address: string, id: string): boolean {
    const c = this.pairs.get(`${address}\n${id}`);
    return c !== undefined && this.now() - c.last < this.policy.forgetAfterMs;
  }

  /** Reserves a slot to hold a refusal; false when the address or the broker holds too many. */
  hold(address: string): boolean {
    const mine = this.heldBy.get(address) ?? 0;
    if (mine >= this.policy.maxHeldPerAddress || this.heldTotal >= this.policy.maxHeld) return false;
    this.heldBy.set(address, mine + 1);
    this.heldTotal++;
    return true;
  }

  release(address: string): void {
    const mine = this.heldBy.get(address) ?? 0;
    if (mine <= 1) this.heldBy.delete(address);
    else this.heldBy.set(address, mine - 1);
    this.heldTotal = Math.max(0, this.heldTotal - 1);
  }

  /** Refusals held now. */
  get held(): number {
    return this.heldTotal;
  }

  private delay(failures: number, free: number): number {
    if (failures <= free) return 0;
    const steps = Math.min(failures - free - 1, 30);
    return Math.min(this.policy.maxDelayMs, this.policy.firstDelayMs * 2 ** steps);
  }

  private bump(map: Map<string, Count>, key: string, now: number): number {
    const c = map.get(key);
    const n = c && now - c.last < this.policy.forgetAfterMs ? c.n + 1 : 1;
    // Re-inserted so the map's order is least recently failed first.
    if (c) map.delete(key);
    map.set(key, { n, last: now });
    if (map.size > this.policy.maxTracked) map.delete(map.keys().next().value as string);
    return n;
  }
}
