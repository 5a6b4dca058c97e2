// The OpenAPI 3.1 document of the hub's /api routes (issue 17 item 4), made from the same zod
// schemas that validate the requests and check the replies (protocol/*-api.ts), so it cannot drift
// from what the hub does. Read from the route policy's table (hub/auth/route-policy.ts): every
// registered /api route is in it, with its access class. Pure: routes in, document out.
import { z } from 'zod';
import { isZod } from '../../common/zod-schema.js';
import { errorEnvelopeSchema } from '../../protocol/http-contract.js';
import type { RouteEntry } from '../auth/route-policy.js';

type JsonSchema = Record<string, unknown>;

export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description: string };
  paths: Record<string, Record<string, unknown>>;
}

const ACCESS_TEXT: Record<string, string> = {
  public: 'no session',
  read: "anyone signed in; answers cut to the user's area",
  operate: 'operators and admins, on things in their area',
  admin: 'admins, on things in their area',
  system: 'an admin of the whole tree',
};

/** zod → JSON Schema 2020-12 (OpenAPI 3.1's dialect); what JSON Schema cannot say (a transform, a refinement) is left open. */
function jsonSchema(schema: unknown, io: 'input' | 'output'): JsonSchema | null {
  if (!isZod(schema)) return null;
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

/** One OpenAPI parameter per property of a params or querystring object schema. */
function parameters(schema: unknown, where: 'path' | 'query'): JsonSchema[] {
  const s = jsonSchema(schema, 'input');
  const props = (s?.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((s?.required ?? []) as string[]);
  return Object.entries(props).map(([name, p]) => ({ name, in: where, required: where === 'path' || required.has(name), schema: p }));
}

function replies(response: Record<string, unknown>, url: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [status, schema] of Object.entries(response)) {
    const type = url.endsWith('.csv') ? 'text/csv' : 'application/json';
    out[status] = { description: status === '201' ? 'Created' : 'OK', content: { [type]: { schema: jsonSchema(schema, 'output') ?? {} } } };
  }
  // The hub's one error handler answers every refusal and failure in the envelope (common/error-codes.ts).
  const envelope = { content: { 'application/json': { schema: jsonSchema(errorEnvelopeSchema, 'output') } } };
  out['4XX'] = { description: 'Refused: the error envelope, code from the registry (common/error-codes.ts)', ...envelope };
  out['5XX'] = { description: 'Failed: the error envelope, no internals', ...envelope };
  return out;
}

/** The document for these routes (HEAD routes are GET's shadows and left out). */
export function openApiDocument(routes: readonly RouteEntry[], version: string): OpenApiDocument {
  const paths: OpenApiDocument['paths'] = {};
  for (const r of routes) {
    if (r.method === 'HEAD') continue;
    const schema = (r.schema ?? {}) as {
      summary?: string;
      params?: unknown;
      querystring?: unknown;
      body?: unknown;
      response?: Record<string, unknown>;
    };
    const path = r.url.replace(/:(\w+)/g, '{$1}');
    const body = jsonSchema(schema.body, 'input');
    (paths[path] ??= {})[r.method.toLowerCase()] = {
      summary: schema.summary ?? `${r.method} ${r.url}`,
      description: `Access: ${r.access} (${ACCESS_TEXT[r.access] ?? r.access}). Body class: ${r.body}, at most ${r.bodyLimit} bytes.`,
      'x-access': r.access,
      parameters: [...parameters(schema.params, 'path'), ...parameters(schema.querystring, 'query')],
      ...(body ? { requestBody: { required: true, content: { 'application/json': { schema: body } } } } : {}),
      responses: replies(schema.response ?? {}, r.url),
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Grid dispatch hub API',
      version,
      description:
        'Generated from the zod contract in protocol/ (the schemas the hub validates with). Who may call what: docs/decisions/011-http-access-policy.md.',
    },
    paths,
  };
}

const escape = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);

/** A plain page listing the routes (no script, no style, nothing fetched: the hub's CSP allows neither inline code nor a CDN). */
export function docsPage(doc: OpenApiDocument): string {
  const rows = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => {
      const o = op as { summary: string; 'x-access': string };
      return `<tr><td><code>${method.toUpperCase()}</code></td><td><code>${escape(path)}</code></td><td>${escape(o['x-access'])}</td><td>${escape(o.summary)}</td></tr>`;
    }),
  );
  return `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>${escape(doc.info.title)}</title></head><body>
<h1>${escape(doc.info.title)} <small>${escape(doc.info.version)}</small></h1>
<p>${escape(doc.info.description)} The whole document: <a href="/api/docs/openapi.json">openapi.json</a> (OpenAPI ${escape(doc.openapi)}).</p>
<table><thead><tr><th>method</th><th>path</th><th>access</th><th>what</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table></body></html>`;
}
