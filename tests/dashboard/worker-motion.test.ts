// The glide and the trail behind each worker's dot: smooth between pushes, no jumps when a push
// lands mid-glide, and a trail bounded in age and length.
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_INTERVAL_MS,
  Motion,
  TRAIL_MAX_AGE_MS,
  TRAIL_MAX_POINTS,
  Trail,
  VERTEX_GAP_MS,
} from '../../dashboard/src/worker-motion.js';

const A = { lat: 27.8, lon: 113.1 };
const B = { lat: 27.81, lon: 113.12 };

describe('Motion', () => {
  it('glides to a new fix over one push interval, then rests there', () => {
    const m = new Motion(A);
    m.retarget(B, 10_000);
    const mid = m.at(10_000 + DEFAULT_INTERVAL_MS / 2);
    expect(mid.lat).toBeCloseTo((A.lat + B.lat) / 2, 9);
    expect(mid.lon).toBeCloseTo((A.lon + B.lon) / 2, 9);
    expect(m.moving(10_000 + DEFAULT_INTERVAL_MS / 2)).toBe(true);
    expect(m.at(10_000 + DEFAULT_INTERVAL_MS)).toEqual(B);
    expect(m.moving(10_000 + DEFAULT_INTERVAL_MS)).toBe(false);
  });

  it('starts the next glide from where the dot is drawn, not from the old target', () => {
    const m = new Motion(A);
    m.retarget(B, 0);
    const drawn = m.at(250);
    const prevTarget = m.retarget({ lat: 27.82, lon: 113.14 }, 250);
    expect(prevTarget).toEqual(B);
    expect(m.at(250)).toEqual(drawn);
  });

  it('learns the push interval from arrivals', () => {
    const m = new Motion(A);
    for (let i = 0; i < 20; i++) m.retarget({ lat: A.lat + i * 1e-4, lon: A.lon }, i * 500);
    const last = 19 * 500;
    expect(m.moving(last + 480)).toBe(true);
    expect(m.moving(last + 560)).toBe(false);
  });

  it('jumps without gliding when placed (snapshot)', () => {
    const m = new Motion(A);
    m.retarget(B, 0);
    m.place(A);
    expect(m.at(100)).toEqual(A);
    expect(m.moving(100)).toBe(false);
  });
});

describe('Trail', () => {
  it('thins to one vertex per 15 s, the newest following the worker', () => {
    const tr = new Trail();
    for (let i = 0; i <= 60; i++) tr.push({ lat: 27 + i * 1e-5, lon: 113 }, 1_000 * i);
    // Kept: t=0, then one vertex about every VERTEX_GAP_MS, and the newest fix at the tip.
    expect(tr.size()).toBeLessThanOrEqual(Math.ceil(60_000 / VERTEX_GAP_MS) + 2);
    expect(tr.size()).toBeGreaterThanOrEqual(Math.floor(60_000 / VERTEX_GAP_MS));
    expect(tr.latLngs()[tr.size() - 1]).toEqual([27 + 60 * 1e-5, 113]);
  });

  it('keeps at most the last 30 minutes however many fixes arrive', () => {
    const tr = new Trail();
    for (let i = 0; i < 4000; i++) tr.push({ lat: 27 + i * 1e-5, lon: 113 }, 1_000 * i);
    expect(tr.size()).toBeLessThanOrEqual(TRAIL_MAX_POINTS);
    expect(tr.size()).toBeGreaterThan(TRAIL_MAX_POINTS - 5);
  });

  it('drops points older than thirty minutes by fix time', () => {
    const tr = new Trail();
    tr.push(A, 0);
    tr.push(B, 60_000);
    tr.push({ lat: 27.9, lon: 113.2 }, TRAIL_MAX_AGE_MS + 30_000);
    expect(tr.latLngs()).toEqual([
      [B.lat, B.lon],
      [27.9, 113.2],
    ]);
  });

  it('adds no vertex while a worker stands still', () => {
    const tr = new Trail();
    tr.push(A, 0);
    tr.push(A, 1_000);
    tr.push(A, 2_000);
    expect(tr.size()).toBe(1);
  });
});
