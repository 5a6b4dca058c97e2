// The position filter's memory of a device's valid fixes: kept in time order, found by time,
// trimmed to the newest, and able to hold a long store-and-forward batch until the trim.
import { describe, expect, it } from 'vitest';
import { RecentFixes } from '../../../hub/ingest/recent-fixes.js';

const times = (r: RecentFixes) => Array.from({ length: r.length }, (_, i) => r.ts(i));

describe('RecentFixes', () => {
  it('keeps fixes in time order, a late one among them, and finds the newest strictly before a time', () => {
    const r = new RecentFixes(4);
    r.insert(1000, 27.1, 113.1, 5);
    r.insert(3000, 27.3, 113.3, null);
    r.insert(2000, 27.2, 113.2, 8);
    r.insert(2000, 27.25, 113.25, 9); // same time: after the one already there
    expect(times(r)).toEqual([1000, 2000, 2000, 3000]);
    expect([r.lat(2), r.lon(2), r.acc(2)]).toEqual([27.25, 113.25, 9]);
    expect(r.acc(3)).toBe(0); // no stated accuracy counts as 0 in the jump check
    expect(r.before(500)).toBe(-1);
    expect(r.before(1000)).toBe(-1);
    expect(r.before(2000)).toBe(0);
    expect(r.before(2500)).toBe(2);
    expect(r.before(9999)).toBe(3);
  });

  it('trims to the newest once twice as many are held, and holds a long batch until then', () => {
    const r = new RecentFixes(4);
    for (let i = 0; i < 7; i++) r.insert(i, 27, 113, 1);
    r.trim();
    expect(r.length).toBe(7);
    for (let i = 7; i < 100; i++) r.insert(i, 27 + i / 1000, 113, i);
    expect(r.length).toBe(100);
    r.trim();
    expect(times(r)).toEqual([96, 97, 98, 99]);
    expect([r.lat(3), r.acc(3)]).toEqual([27.099, 99]);
    // Room again after the trim: more fixes go on in order.
    for (let i = 100; i < 104; i++) r.insert(i, 27, 113, 1);
    r.trim();
    expect(times(r)).toEqual([100, 101, 102, 103]);
  });
});
