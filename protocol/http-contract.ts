// The shape of an HTTP route in the contract (issue 17 item 4): method, path and zod schemas for its
// path parameters, query string, body and replies, declared once here in protocol/. The hub serves
// it (validation and handler types from these schemas, common/zod-schema.ts), the OpenAPI
// document is generated from it (/api/docs), and tools and the command screen take their types
// from it. Query strings arrive as text: numbers and flags are coerced here, as ajv did before.
import { z } from 'zod';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RouteSchema {
  summary?: string;
  params?: z.ZodType;
  querystring: z.ZodType;
  body?: z.ZodType;
  /** Replies by status (2xx); refusals use the one error envelope. */
  response: Record<number, z.ZodType>;
}

/** The one error envelope (common/error-codes.ts errorEnvelope): details such as `issues` beside `error`. */
export const errorEnvelopeSchema = z.looseObject({
  ok: z.literal(false),
  error: z.object({ code: z.string(), message: z.string() }),
});
export type ErrorEnvelope = z.infer<typeof errorEnvelopeSchema>;

/**
 * A route of the contract. Refusals and failures answer in the error envelope (errorEnvelopeSchema),
 * which the hub's one error handler guarantees; the OpenAPI document adds it to every route.
 */
export function route<const M extends HttpMethod, const U extends string, const S extends RouteSchema>(method: M, url: U, schema: S) {
  return { method, url, schema };
}

/** No query parameters: an unknown one is refused (400), not ignored. */
export const noQuery = z.object({}).strict();
/** A reply with no fields of note. */
export const okReply = z.object({ ok: z.literal(true) });

/** A query flag: `true` or `false` (ajv's coercion, which took nothing else from a query string). */
export const queryFlag = z.enum(['true', 'false']).transform((v) => v === 'true');
/** A number in a query string or path: `z.coerce.number()`, as ajv's coercion read it. */

/** Epoch milliseconds, as every view of the live screen carries them. */
export const epochMs = z.number();
/** An ISO-8601 instant, as the HTTP replies of the people, device and KPI routes carry them. */
export const isoTime = z.string();
export const regionCode = z.string().min(1).max(64);

/** `:id` of most things (incidents, workers, complaints): opaque text. */
export const idParams = z.object({ id: z.string().min(1).max(128) }).strict();
