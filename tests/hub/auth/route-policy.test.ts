// The route policy and the role rule without I/O (issue 16): what a route must declare, what it
// gets when it forgets, and who may call each access class.
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { roleRefusal } from '../../../hub/auth/auth-plugin.js';
import type { Viewer } from '../../../hub/auth/auth-service.js';
import { ALL_AREA, type Area } from '../../../hub/auth/request-area.js';
import { ACCESS, apiRoutesOf, BODY_LIMITS, routePolicy, type Access } from '../../../hub/auth/route-policy.js';

const viewer = (role: 'viewer' | 'operator' | 'admin' | null): Viewer => ({
  user: role === null ? null : { id: `u-${role}`, username: role, displayName: role, role, scope: 'S1', scopeName: null, scopeLevel: null },
  scope: role === null ? '*' : 'S1',
  token: null,
  expiresAt: null,
});
const street: Area = { ...ALL_AREA, scope: 'S1', all: false, whole: () => false };

describe('roleRefusal', () => {
  it('public and read for everyone; operate for operators and admins; admin for admins; system for an admin of the whole tree', () => {
    const table = (area: Area) =>
      Object.fromEntries(
        (['viewer', 'operator', 'admin', null] as const).map((r) => [
          r ?? 'anonymous (auth off)',
          ACCESS.map((a: Access) => roleRefusal(a, viewer(r), area)?.code ?? 'ok'),
        ]),
      );
    // [public, read, operate, admin, system]
    expect(table(ALL_AREA)).toEqual({
      viewer: ['ok', 'ok', 'READ_ONLY', 'ACTOR_NOT_ALLOWED', 'ACTOR_NOT_ALLOWED'],
      operator: ['ok', 'ok', 'ok', 'ACTOR_NOT_ALLOWED', 'ACTOR_NOT_ALLOWED'],
      admin: ['ok', 'ok', 'ok', 'ok', 'ok'],
      'anonymous (auth off)': ['ok', 'ok', 'ok', 'ok', 'ok'],
    });
    expect(table(street).admin).toEqual(['ok', 'ok', 'ok', 'ok', 'OUT_OF_SCOPE']);
  });
});

describe('routePolicy', () => {
  it('records each /api route with its class and limit, and what it forgot', async () => {
    const app = Fastify();
    app.addHook('onRoute', routePolicy(app, { pool: { query: async () => ({ rows: [] }) } as never, guarded: false }));
    const q = { type: 'object', additionalProperties: false, properties: {} };
    const response = { 200: { type: 'object' } };
    app.get('/api/fine', { config: { access: 'read' }, schema: { querystring: q, response } }, async () => ({}));
    app.post(
      '/api/form',
      { config: { access: 'operate' }, schema: { querystring: q, body: { type: 'object' }, response } },
      async () => ({}),
    );
    app.post('/api/forgot/:id', async () => ({}));
    app.get('/api/loose', { config: { access: 'read' }, schema: { querystring: { type: 'object' }, response } }, async () => ({}));
    app.get('/health/x', async () => ({}));
    await app.ready();
    const byKey = Object.fromEntries(apiRoutesOf(app).map((r) => [`${r.method} ${r.url}`, r]));
    expect(Object.keys(byKey)).toEqual([
      'GET /api/fine',
      'HEAD /api/fine',
      'POST /api/form',
      'POST /api/forgot/:id',
      'GET /api/loose',
      'HEAD /api/loose',
    ]);
    expect(byKey['GET /api/fine']).toMatchObject({ access: 'read', body: 'none', bodyLimit: BODY_LIMITS.none, problems: [] });
    expect(byKey['POST /api/form']).toMatchObject({ access: 'operate', body: 'form', bodyLimit: BODY_LIMITS.form, problems: [] });
    // Forgotten access: the rule from before (writes take an operator), and the gaps listed.
    expect(byKey['POST /api/forgot/:id']!.access).toBe('operate');
    expect(byKey['POST /api/forgot/:id']!.problems).toEqual([
      'config.access (one of public, read, operate, admin, system)',
      'schema.querystring with additionalProperties: false',
      'schema.params',
      'schema.response (a 2xx reply)',
      'schema.body (or config.body: "none")',
    ]);
    expect(byKey['GET /api/loose']!.problems).toEqual(['schema.querystring with additionalProperties: false']);
    await app.close();
  });
});
