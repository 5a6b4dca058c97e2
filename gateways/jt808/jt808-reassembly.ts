// Split packages (JT/T 808-2019 §4.4.3, attribute bit 13 and the package item: total WORD, index
// WORD, both from 1). A long message (a big 0x0704 batch) arrives as `total` frames; they are put
// back together per terminal and message id. Memory is bounded: a message may not promise more than
// `maxBytes`, at most `maxPending` messages are open at once (the oldest gives way), and parts older
// than `timeoutMs` are dropped (the terminal sends them again: it never got its 0x8001).
import type { Jt808Frame, Jt808Header } from './jt808-frame.js';
import { MAX_BODY_BYTES } from './jt808-frame.js';

export interface ReassemblyOptions {
  now: () => number;
  timeoutMs?: number;
  maxPending?: number;
  /** Upper bound of one reassembled body; checked against total × 1023 at the first package. */
  maxBytes?: number;
}

export interface Reassembled {
  /** The first package's header, with `split` cleared and the body length of the whole. */
  header: Jt808Header;
  body: Buffer;
  /** Serial numbers of every package, in index order: each one is answered. */
  seqs: number[];
}

export type ReassemblyResult = { kind: 'complete'; message: Reassembled } | { kind: 'pending' } | { kind: 'rejected'; reason: string };

interface Assembly {
  total: number;
  startedAt: number;
  parts: Map<number, { seq: number; header: Jt808Header; body: Buffer }>;
}

export const REASSEMBLY_DEFAULTS = { timeoutMs: 60_000, maxPending: 4, maxBytes: 256 * 1024 } as const;

export class Reassembler {
  private readonly open = new Map<string, Assembly>();
  private readonly timeoutMs: number;
  private readonly maxPending: number;
  private readonly maxBytes: number;
  /** Messages dropped unfinished (timed out or pushed out); the gateway counts them. */
  dropped = 0;

  constructor(private readonly opts: ReassemblyOptions) {
    this.timeoutMs = opts.timeoutMs ?? REASSEMBLY_DEFAULTS.timeoutMs;
    this.maxPending = opts.maxPending ?? REASSEMBLY_DEFAULTS.maxPending;
    this.maxBytes = opts.maxBytes ?? REASSEMBLY_DEFAULTS.maxBytes;
  }

  get pending(): number {
    return this.open.size;
  }

  add(frame: Jt808Frame): ReassemblyResult {
    const { header, body } = frame;
    const split = header.split;
    if (!split) return { kind: 'complete', message: { header, body, seqs: [header.seq] } };
    this.expire();
    // Checked at the first package seen, so no memory is spent on a message we would refuse at the end.
    const maxPackages = Math.ceil(this.maxBytes / MAX_BODY_BYTES);
    if (split.total > maxPackages)
      return { kind: 'rejected', reason: `split_too_large: ${split.total} packages, at most ${maxPackages} (${this.maxBytes} bytes)` };
    const key = `${header.terminalNo}:${header.msgId}`;
    let a = this.open.get(key);
    if (a && a.total !== split.total) {
      // A new message of the same id before the last one finished: the old one is abandoned.
      this.open.delete(key);
      this.dropped++;
      a = undefined;
    }
    if (!a) {
      if (this.open.size >= this.maxPending) {
        const oldest = this.open.keys().next().value as string;
        this.open.delete(oldest);
        this.dropped++;
      }
      a = { total: split.total, startedAt: this.opts.now(), parts: new Map() };
      this.open.set(key, a);
    }
    a.parts.set(split.index, { seq: header.seq, header, body });
    if (a.parts.size < a.total) return { kind: 'pending' };
    this.open.delete(key);
    const ordered = [...a.parts.entries()].sort((x, y) => x[0] - y[0]).map(([, p]) => p);
    const whole = Buffer.concat(ordered.map((p) => p.body));
    if (whole.length > this.maxBytes)
      return { kind: 'rejected', reason: `split_too_large: ${whole.length} bytes reassembled, the cap is ${this.maxBytes}` };
    const first = ordered[0]!.header;
    return {
      kind: 'complete',
      message: { header: { ...first, split: null, bodyLength: whole.length }, body: whole, seqs: ordered.map((p) => p.seq) },
    };
  }

  /** Drops messages whose first part is older than the timeout; returns how many. */
  expire(): number {
    const cutoff = this.opts.now() - this.timeoutMs;
    let n = 0;
    for (const [key, a] of this.open) {
      if (a.startedAt <= cutoff) {
        this.open.delete(key);
        n++;
      }
    }
    this.dropped += n;
    return n;
  }
}
