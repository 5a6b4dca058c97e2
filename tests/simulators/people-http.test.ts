// Simulated residents and the simulated grid leader over real HTTP. The hub's side is a small
// fastify app on port 0 that keeps the complaint API's contract (hub/dispatch/incident-routes.ts:
// strict bodies, receipts, ratable states, versions); the lead's tests cover the real routes.
// Manual clock; requests are awaited through settle(), never slept on.
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../common/clock.js';
import { silentLogger } from '../../common/logger.js';
import { buildDemoDistrict } from '../../simulators/demo-district.js';
import { OperatorSim } from '../../simulators/operator-sim.js';
import { ResidentSim } from '../../simulators/resident-sim.js';
import { createRng } from '../../simulators/rng.js';

interface Case {
  id: string;
  token: string;
  body: Record<string, unknown>;
  state: string;
  version: number;
  updatedAt: number;
  scores: number[];
  verifiedBy: string[];
}

const T0 = Date.parse('2026-11-25T08:00:00+08:00');
const clock = new ManualClock(T0);
const cases = new Map<string, Case>();
const seenBearers: (string | undefined)[] = [];
let app: FastifyInstance;
let url: string;

beforeAll(async () => {
  app = Fastify();
  app.post<{ Body: Record<string, unknown> }>(
    '/api/complaints',
    {
      schema: {
        body: {
          type: 'object',
          required: ['category', 'lat', 'lon'],
          additionalProperties: false,
          properties: {
            category: { type: 'string' },
            lat: { type: 'number' },
            lon: { type: 'number' },
            description: { type: 'string' },
            name: { type: 'string' },
            phone: { type: 'string' },
            priority: { type: 'string', enum: ['low', 'normal', 'high', 'urgent'] },
          },
        },
      },
    },
    async (req, reply) => {
      const id = `inc-${cases.size + 1}`;
      cases.set(id, {
        id,
        token: `receipt-${id}-secret`,
        body: req.body,
        state: 'reported',
        version: 1,
        updatedAt: clock.now(),
        scores: [],
        verifiedBy: [],
      });
      void reply.status(201);
      return { id, token: `receipt-${id}-secret`, gridCode: '430299001001001', state: 'reported' };
    },
  );
  app.get<{ Params: { id: string }; Querystring: { token: string } }>('/api/complaints/:id/status', async (req, reply) => {
    const c = cases.get(req.params.id);
    if (!c || c.token !== req.query.token) return reply.status(403).send({ error: 'BAD_RECEIPT' });
    return { id: c.id, state: c.state, version: c.version };
  });
  app.post<{ Params: { id: string }; Body: { token: string; score: number } }>('/api/complaints/:id/rating', async (req, reply) => {
    const c = cases.get(req.params.id);
    if (!c || c.token !== req.body.token) return reply.status(403).send({ error: 'BAD_RECEIPT' });
    if (!['resolved', 'verified', 'closed'].includes(c.state)) return reply.status(409).send({ error: 'NOT_RATABLE' });
    c.scores.push(req.body.score);
    c.state = req.body.score <= 2 ? 'reopened' : 'closed';
    c.version++;
    return { id: c.id, state: c.state, version: c.version };
  });
  app.get<{ Querystring: { state?: string } }>('/api/incidents', async (req) => {
    seenBearers.push(req.headers.authorization);
    return {
      items: [...cases.values()]
        .filter((c) => !req.query.state || req.query.state.split(',').includes(c.state))
        .map((c) => ({ id: c.id, state: c.state, version: c.version, updatedAt: c.updatedAt })),
    };
  });
  app.post<{ Params: { id: string }; Body: { type: string; expectedVersion: number } }>(
    '/api/incidents/:id/actions',
    async (req, reply) => {
      const c = cases.get(req.params.id);
      if (!c) return reply.status(404).send({ error: 'INCIDENT_NOT_FOUND' });
      if (c.version !== req.body.expectedVersion) return reply.status(409).send({ error: 'VERSION_CONFLICT' });
      if (req.body.type !== 'verify' || c.state !== 'resolved') return reply.status(409).send({ error: 'ILLEGAL_TRANSITION' });
      c.state = 'verified';
      c.version++;
      c.verifiedBy.push(`${clock.now() - c.updatedAt}`);
      c.updatedAt = clock.now();
      return { incident: { id: c.id, state: c.state, version: c.version } };
    },
  );
  app.post<{ Body: { username: string; password: string; bearer?: boolean } }>('/api/auth/login', async (req, reply) => {
    if (req.body.username !== 'admin' || req.body.password !== 'pw-for-tests') return reply.status(401).send({ error: 'BAD_CREDENTIALS' });
    return { user: { id: 'u-admin' }, token: 'session-token' };
  });
  url = await app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await app?.close();
});

/** The hub's workers resolving every open case (what dispatch and the handsets do for real). */
function resolveOpen(): void {
  for (const c of cases.values()) {
    if (['reported', 'reopened'].includes(c.state)) {
      c.state = 'resolved';
      c.version++;
      c.updatedAt = clock.now();
    }
  }
}

async function play(minutes: number, actors: { tick(): void; settle(): Promise<void> }[]): Promise<void> {
  for (let i = 0; i < minutes; i++) {
    clock.advance(60_000);
    for (const a of actors) a.tick();
    for (const a of actors) await a.settle();
  }
}

describe('simulated people over HTTP', () => {
  it('residents file valid complaints, follow them, rate, re-rate after a reopen; the grid leader verifies the rest', async () => {
    const district = buildDemoDistrict({ seed: 9, handsets: 2 });
    const residents = new ResidentSim({
      httpUrl: url,
      district,
      clock,
      rng: createRng('residents'),
      logger: silentLogger,
      behaviour: { perHour: 30, unsatisfiedShare: 0.3, silentShare: 0.1 },
    });
    residents.start();
    await play(120, [residents]);
    const filed = residents.stats.filed;
    // ~2 h at 30/h, shaped by the morning profile (8-10 h is above the day's mean).
    expect(filed).toBeGreaterThan(40);
    expect(residents.stats.fileRejected).toBe(0);
    expect(cases.size).toBe(filed);
    // Every body passed the strict schema; the receipt was kept.
    for (const r of residents.all) expect(r.id).toMatch(/^inc-\d+$/);
    expect(residents.stats.polls).toBeGreaterThan(filed);

    // The hub resolves everything; residents notice on their next check and rate within 5 min-2 h.
    resolveOpen();
    await play(4 * 60, [residents]);
    const rated = [...cases.values()].filter((c) => c.scores.length > 0);
    const unhappy = rated.filter((c) => c.state === 'reopened');
    expect(rated.length + residents.stats.silent).toBeGreaterThanOrEqual(filed - 3);
    expect(residents.stats.silent).toBeGreaterThan(0);
    expect(unhappy.length).toBeGreaterThan(3);
    expect(unhappy.every((c) => (c.scores[0] ?? 0) <= 2)).toBe(true);

    // The grid leader looks every 5 min and verifies resolved cases 5-30 min after resolution.
    const operator = new OperatorSim({
      httpUrl: url,
      clock,
      rng: createRng('operator'),
      logger: silentLogger,
      credentials: { username: 'admin', password: 'pw-for-tests' },
      pollEveryS: 300,
      verifyAfterS: [300, 1800],
    });
    await operator.start();
    resolveOpen();
    await play(3 * 60, [residents, operator]);
    expect(seenBearers.length).toBeGreaterThan(0);
    expect(seenBearers.every((b) => b === 'Bearer session-token')).toBe(true);
    for (const c of unhappy) {
      // Reopened, resolved again: either the resident re-rated it first, or the leader verified it.
      expect(c.scores.length === 2 || c.verifiedBy.length === 1).toBe(true);
    }
    for (const c of cases.values()) for (const d of c.verifiedBy) expect(Number(d)).toBeGreaterThanOrEqual(300_000);
    expect(operator.stats.verified).toBeGreaterThan(0);
    expect(residents.stats.httpErrors + operator.stats.httpErrors).toBe(0);
    await residents.stop();
    await operator.stop();
  });

  it('the grid leader refuses to act without a valid login', async () => {
    const operator = new OperatorSim({
      httpUrl: url,
      clock,
      rng: createRng('op2'),
      logger: silentLogger,
      credentials: { username: 'admin', password: 'wrong' },
    });
    await expect(operator.start()).rejects.toThrow(/login failed \(401\)/);
  });
});
