// The zod seams of the hub's HTTP side (common/zod-schema.ts): requests parsed by the contract's
// schemas (coercion, defaults, unknown fields refused), replies checked against theirs and sent as
// the handler made them (never stripped), and a reply that does not match caught as a 500.
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { useZodSchemas, type ZodTypeProvider } from '../../common/zod-schema.js';
import { noQuery, queryFlag, route } from '../../protocol/http-contract.js';

const THING = route('GET', '/api/things/:id', {
  params: z.strictObject({ id: z.coerce.number().int().min(1) }),
  querystring: z.strictObject({ full: queryFlag.default(false), limit: z.coerce.number().int().max(10).default(3) }),
  response: { 200: z.object({ id: z.number(), full: z.boolean(), limit: z.number() }) },
});
const BROKEN = route('GET', '/api/broken', { querystring: noQuery, response: { 200: z.object({ count: z.number() }) } });
const WRITE = route('POST', '/api/things', {
  querystring: noQuery,
  body: z.strictObject({ name: z.string().min(1) }),
  response: { 201: z.object({ name: z.string() }) },
});

async function app() {
  const mismatches: string[] = [];
  const a = Fastify();
  useZodSchemas(a, { mismatch: (r, status, issues) => mismatches.push(`${r} ${status}: ${issues.join('; ')}`) });
  const r = a.withTypeProvider<ZodTypeProvider>();
  // Extra fields beyond the schema: sent as they are, not stripped by the reply check.
  r.route({ ...THING, handler: async (req) => ({ ...req.params, ...req.query, extra: 'kept' }) });
  // A handler whose reply breaks its schema (typed loosely on purpose, as a runtime slip would be).
  r.route({ ...BROKEN, handler: async () => JSON.parse('{"count":"seven"}') as { count: number } });
  r.route({ ...WRITE, handler: async (req, reply) => reply.status(201).send({ name: req.body.name }) });
  await a.ready();
  return { a, mismatches };
}

describe('zod schemas on fastify routes', () => {
  it('parses path and query with coercion and defaults, and sends the reply whole', async () => {
    const { a } = await app();
    const res = await a.inject('/api/things/7?full=true');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ id: 7, full: true, limit: 3, extra: 'kept' });
  });

  it('refuses an unknown parameter, a bad number and an unknown body field with 400 FST_ERR_VALIDATION', async () => {
    const { a } = await app();
    for (const url of ['/api/things/7?zz=1', '/api/things/0', '/api/things/7?limit=11', '/api/things/7?full=yes']) {
      const res = await a.inject(url);
      expect(res.statusCode, url).toBe(400);
      expect(res.json().code, url).toBe('FST_ERR_VALIDATION');
    }
    const body = await a.inject({ method: 'POST', url: '/api/things', payload: { name: 'x', zz: 1 } });
    expect(body.statusCode).toBe(400);
    expect((await a.inject({ method: 'POST', url: '/api/things', payload: { name: 'x' } })).statusCode).toBe(201);
  });

  it('catches a reply that does not match its schema: 500, and the mismatch reported', async () => {
    const { a, mismatches } = await app();
    const res = await a.inject('/api/broken');
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain('seven');
    expect(mismatches).toEqual([expect.stringContaining('GET /api/broken 200: count:')]);
  });
});
