// A flood on the public endpoints (resident complaints, login): clear rejections (429, the error envelope), a counter,
// a log line, and nothing else changes (no extra incidents, other clients unaffected).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSystem } from '../../../system.js';
import { startTestSystem } from '../../../testkit/test-system.js';
import { IN_G1, postJson, seedBorderDistrict } from './border-district.js';

describe('complaint flood', () => {
  let sys: RunningSystem;
  beforeAll(async () => {
    sys = await startTestSystem({ COMPLAINTS_PER_MIN: '3' });
    await seedBorderDistrict(sys);
  }, 60_000);
  afterAll(async () => {
    await sys?.stop();
  });

  it('refuses past the per-address limit with 429 and counts it; the accepted ones are all there is', async () => {
    const replies = [];
    for (let i = 0; i < 8; i++)
      replies.push(
        await postJson<{ ok?: boolean; error?: { code: string; message: string } }>(sys, '/api/complaints', {
          category: 'noise',
          lat: IN_G1.lat,
          lon: IN_G1.lon,
        }),
      );
    expect(replies.map((r) => r.status)).toEqual([201, 201, 201, 429, 429, 429, 429, 429]);
    expect(replies[3].body).toMatchObject({ ok: false, error: { code: 'RATE_LIMITED' } });
    expect(replies[3].body.error?.message).toContain('请稍后再试');
    const n = await sys.db.pool.query(`SELECT count(*)::int AS n FROM incidents WHERE source = 'resident'`);
    expect(n.rows[0].n).toBe(3);
    const metrics = await fetch(`${sys.httpUrl}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/http_rate_limited_total\{route="\/api\/complaints"\} 5/);
    // Operators and screens are not limited by the residents' bucket.
    const list = await fetch(`${sys.httpUrl}/api/incidents`);
    expect(list.status).toBe(200);
  });

  it('limits password guessing on the login route the same way', async () => {
    const codes = [];
    for (let i = 0; i < 12; i++) codes.push((await postJson(sys, '/api/auth/login', { username: 'admin', password: `guess-${i}` })).status);
    expect(codes.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(codes.slice(10)).toEqual([429, 429]);
  });
});
