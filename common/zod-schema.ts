// Routes take their schemas from the zod contract in protocol/ (issue 17 item 4), through fastify's
// documented seams: a validator compiler (requests), a serializer compiler (replies) and a type
// provider (handler types), the three pieces a maintained zod type provider would bring. Ours is
// this one file instead of a dependency: zod 4 and fastify 5 give everything it needs.
//
// Replies are checked, never rewritten: the serializer parses the reply with its schema and sends
// the handler's own object (JSON.stringify, as fastify does for a route without a schema), so a
// schema that forgot a field cannot strip it from the command screen's answer. A reply that does
// not match answers 500 and counts in `http_response_mismatch_total{route}`: tests catch it.
//
// Here in common/, not in hub/http/: every folder's routes import it and hub/http imports their
// routes, so in hub/http it made each route folder and http import each other (issue 17 item 2).
// The OwnTracks gateway's routes use it too.
import type {
  FastifyBaseLogger,
  FastifyInstance,
  FastifySchemaCompiler,
  FastifyTypeProvider,
  FastifySerializerCompiler,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { z } from 'zod';

export interface ZodTypeProvider extends FastifyTypeProvider {
  validator: this['schema'] extends z.ZodType ? z.output<this['schema']> : unknown;
  serializer: this['schema'] extends z.ZodType ? z.input<this['schema']> : unknown;
}

export function isZod(schema: unknown): schema is z.ZodType {
  return typeof schema === 'object' && schema !== null && typeof (schema as { safeParse?: unknown }).safeParse === 'function';
}

/** A fastify instance whose routes take their types from zod schemas. */
export type ZodApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;

/** One line per zod issue: `path: message` (`(body)` for the whole part). */
export function issueLines(error: z.ZodError): string[] {
  return error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`);
}

/**
 * Requests: a zod schema parses (its defaults and coercions apply, unknown fields are refused by
 * `.strict()`); the refusal is fastify's FST_ERR_VALIDATION, 400, with the issues beside it.
 */
export const zodValidatorCompiler: FastifySchemaCompiler<z.ZodType> =
  ({ schema, httpPart }) =>
  (data: unknown) => {
    if (!isZod(schema)) throw new Error(`${httpPart} schema is not a zod schema (common/zod-schema.ts)`);
    const r = schema.safeParse(data);
    if (r.success) return { value: r.data };
    const issues = issueLines(r.error);
    return { error: Object.assign(new Error(`${httpPart ?? 'request'}/${issues.join('; ')}`), { issues }) };
  };

export interface ResponseCheck {
  /** Called on a reply that does not match its schema, before it is refused with a 500. */
  mismatch: (route: string, status: string, issues: string[]) => void;
}

/** Replies: checked against the route's schema for that status, then sent as the handler made them. */
export function zodSerializerCompiler(check: ResponseCheck): FastifySerializerCompiler<z.ZodType> {
  return ({ schema, method, url, httpStatus }) => {
    if (!isZod(schema)) return (data) => JSON.stringify(data);
    return (data) => {
      const r = schema.safeParse(data);
      if (!r.success) {
        const issues = issueLines(r.error);
        check.mismatch(`${method} ${url}`, String(httpStatus), issues);
        throw Object.assign(
          new Error(`reply of ${method} ${url} (${httpStatus}) does not match its schema: ${issues.slice(0, 5).join('; ')}`),
          { code: 'FST_ERR_RESPONSE_SCHEMA' },
        );
      }
      return JSON.stringify(data);
    };
  };
}

/** Installs both compilers on `app` (the root instance: every route registered after it inherits them). */
export function useZodSchemas(
  app: {
    setValidatorCompiler(c: FastifySchemaCompiler<z.ZodType>): unknown;
    setSerializerCompiler(c: FastifySerializerCompiler<z.ZodType>): unknown;
  },
  check: ResponseCheck,
): void {
  app.setValidatorCompiler(zodValidatorCompiler);
  app.setSerializerCompiler(zodSerializerCompiler(check));
}
