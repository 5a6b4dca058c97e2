// Split packages (JT/T 808-2019 §4.4.3: attribute bit 13, package item total @12/@17 and index
// @14/@19, from 1), reassembled per terminal and message id, bounded, with a timeout.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../common/clock.js';
import { decodeFrame, encodeSplit, type Jt808Frame } from '../../../gateways/jt808/jt808-frame.js';
import { Reassembler } from '../../../gateways/jt808/jt808-reassembly.js';

const T0 = Date.UTC(2026, 10, 25, 8);

function packages(terminalNo: string, seq: number, body: Buffer, maxBody: number): Jt808Frame[] {
  return encodeSplit({ msgId: 0x0704, version: 2019, terminalNo, seq }, body, maxBody).map((f) => {
    const r = decodeFrame(f.subarray(1, f.length - 1));
    if (!r.ok) throw new Error(r.reason);
    return r.frame;
  });
}

const body = Buffer.from(Array.from({ length: 2500 }, (_, i) => i % 251));

describe('reassembly of split packages', () => {
  it('puts packages arriving in any order back together, answering every serial number', () => {
    const clock = new ManualClock(T0);
    const r = new Reassembler({ now: () => clock.now() });
    const [p1, p2, p3] = packages('13800138000', 500, body, 1000);
    expect(r.add(p3!).kind).toBe('pending');
    expect(r.add(p1!).kind).toBe('pending');
    const out = r.add(p2!);
    expect(out.kind).toBe('complete');
    if (out.kind !== 'complete') return;
    expect(out.message.body).toEqual(body);
    expect(out.message.seqs).toEqual([500, 501, 502]);
    expect(out.message.header).toMatchObject({ msgId: 0x0704, seq: 500, split: null, bodyLength: 2500 });
    expect(r.pending).toBe(0);
  });

  it('a package sent twice (no reply reached the terminal) does not complete the message early', () => {
    const r = new Reassembler({ now: () => T0 });
    const [p1, p2, p3] = packages('13800138000', 1, body, 1000);
    r.add(p1!);
    expect(r.add(p1!).kind).toBe('pending');
    expect(r.add(p2!).kind).toBe('pending');
    expect(r.add(p3!).kind).toBe('complete');
  });

  it('keeps two terminals and two message ids apart', () => {
    const r = new Reassembler({ now: () => T0 });
    const a = packages('13800138000', 1, body, 1000);
    const b = packages('13900139000', 1, Buffer.alloc(2500, 7), 1000);
    for (let i = 0; i < 2; i++) {
      r.add(a[i]!);
      r.add(b[i]!);
    }
    const doneA = r.add(a[2]!);
    const doneB = r.add(b[2]!);
    expect(doneA.kind === 'complete' && doneA.message.body.equals(body)).toBe(true);
    expect(doneB.kind === 'complete' && doneB.message.body.equals(Buffer.alloc(2500, 7))).toBe(true);
  });

  it('drops parts older than the timeout: the terminal, unanswered, sends them again', () => {
    const clock = new ManualClock(T0);
    const r = new Reassembler({ now: () => clock.now(), timeoutMs: 60_000 });
    const [p1, p2, p3] = packages('13800138000', 1, body, 1000);
    r.add(p1!);
    r.add(p2!);
    clock.advance(60_000);
    expect(r.add(p3!).kind).toBe('pending');
    expect(r.dropped).toBe(1);
    r.add(p1!);
    expect(r.add(p2!).kind).toBe('complete');
  });

  it('holds at most maxPending open messages: the oldest gives way', () => {
    const r = new Reassembler({ now: () => T0, maxPending: 2 });
    const first = packages('1', 1, body, 1000);
    r.add(first[0]!);
    r.add(packages('2', 1, body, 1000)[0]!);
    r.add(packages('3', 1, body, 1000)[0]!);
    expect(r.pending).toBe(2);
    expect(r.dropped).toBe(1);
    expect(r.add(first[1]!).kind).toBe('pending'); // started again from package 2
  });

  it('refuses at the first package a message that could exceed the byte cap, holding nothing', () => {
    const r = new Reassembler({ now: () => T0, maxBytes: 4096 });
    const out = r.add(packages('1', 1, Buffer.alloc(6000), 1000)[0]!);
    expect(out).toEqual({ kind: 'rejected', reason: 'split_too_large: 6 packages, at most 5 (4096 bytes)' });
    expect(r.pending).toBe(0);
  });

  it('passes a frame without the split bit straight through', () => {
    const r = new Reassembler({ now: () => T0 });
    const [only] = packages('1', 9, Buffer.alloc(10), 1000);
    const f: Jt808Frame = { header: { ...only!.header, split: null }, body: only!.body };
    const out = r.add(f);
    expect(out.kind === 'complete' && out.message.seqs).toEqual([9]);
  });
});
