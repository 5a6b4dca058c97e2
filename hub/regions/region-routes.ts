// Regions over HTTP: GET /api/regions exports the tree as GeoJSON (optionally one level or one
// subtree), PUT /api/regions replaces it (issue 3 item 1). The import policy lives in
// region-store.ts; here are only the HTTP shapes. Replies use the hub's envelope
// ({ ok:false, error:{ code, message } }) plus the problem list the operator has to work through.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type pg from 'pg';
import { AppError, ERROR_MESSAGES, type ErrorCode } from '../../common/error-codes.js';
import { REGION_LEVELS, type RegionLevel } from '../../protocol/region-levels.js';
import { areaOf } from '../auth/request-area.js';
import { ACCEPT_FLAGS, assessRegionImport, parseAcceptFlags, readRegions, replaceRegions } from './region-store.js';

export interface RegionRouteOptions {
  pool: pg.Pool;
  /** Called after a committed import; the hub reloads its grid locator and live state here. */
  onRegionsChanged?: () => void | Promise<void>;
  /** Largest accepted GeoJSON body. Default 64 MiB (a city of 3,000+ detailed grids). */
  bodyLimit?: number;
}

interface ExportQuery {
  level?: RegionLevel;
  root?: string;
}

interface ImportQuery {
  accept?: string;
  dryRun?: boolean;
}

const acceptWord = `(${ACCEPT_FLAGS.join('|')}|overlap|gap)`;

/** The hub's error envelope, with details (problems, devices …) beside it. */
export function sendFailure(reply: FastifyReply, status: number, code: ErrorCode, details: Record<string, unknown>): FastifyReply {
  const m = ERROR_MESSAGES[code];
  return reply.status(status).send({ ok: false, error: { code, message: `${m.zh} / ${m.en}` }, ...details });
}

export async function regionRoutes(app: FastifyInstance, opts: RegionRouteOptions): Promise<void> {
  const { pool } = opts;
  const bodyLimit = opts.bodyLimit ?? 64 * 1024 * 1024;
  // GIS tools send GeoJSON as application/geo+json (RFC 7946 §12); parse it like JSON, here only.
  app.addContentTypeParser('application/geo+json', { parseAs: 'string', bodyLimit }, app.getDefaultJsonParser('error', 'error'));

  app.get<{ Querystring: ExportQuery }>(
    '/api/regions',
    {
      // A scoped screen gets its own subtree (the page draws nothing else); `root` must lie in it.
      config: { access: 'read', areaParam: 'root' },
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            level: { type: 'string', enum: [...REGION_LEVELS] },
            root: { type: 'string', minLength: 1, maxLength: 64 },
          },
        },
      },
    },
    async (req) => {
      const area = areaOf(req);
      const fc = await readRegions(pool, area.all || req.query.root !== undefined ? req.query : { ...req.query, root: area.scope });
      if (!fc) throw new AppError('REGION_NOT_FOUND');
      return fc;
    },
  );

  app.put<{ Querystring: ImportQuery; Body: unknown }>(
    '/api/regions',
    {
      // The whole district's tree: hub-wide, an admin of the whole tree only.
      config: { access: 'system', body: 'geojson' },
      bodyLimit,
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            accept: { type: 'string', pattern: `^${acceptWord}(,${acceptWord})*$`, maxLength: 100 },
            dryRun: { type: 'boolean', default: false },
          },
        },
        // Only the envelope here: the features are judged by parseRegions, which reports every
        // defect at once (422) instead of the first one (400).
        body: { type: 'object', required: ['type', 'features'], properties: { type: { type: 'string' }, features: { type: 'array' } } },
      },
    },
    async (req, reply) => {
      const accept = parseAcceptFlags(req.query.accept ? [req.query.accept] : []);
      const judged = assessRegionImport(req.body, accept);
      if (judged.verdict === 'unparseable') return sendFailure(reply, 422, 'REGIONS_UNPARSEABLE', { issues: judged.issues });
      if (judged.verdict === 'invalid') {
        return sendFailure(reply, 422, judged.noGrid ? 'REGIONS_NO_GRID' : 'REGIONS_INVALID', { problems: judged.problems });
      }
      if (judged.verdict === 'refused') {
        return sendFailure(reply, 422, 'REGIONS_GEOMETRY_REFUSED', { problems: judged.problems, needs: judged.needs });
      }
      const dryRun = req.query.dryRun === true;
      const result = await replaceRegions(pool, judged.tree, { accept, dryRun });
      if (result.outcome === 'in_use') {
        return sendFailure(reply, 409, 'REGIONS_IN_USE', { devices: result.devicesInRemovedRegions, removedCodes: result.removedCodes });
      }
      let reloaded = false;
      if (!dryRun) {
        try {
          await opts.onRegionsChanged?.();
          reloaded = opts.onRegionsChanged !== undefined;
        } catch (err) {
          // The tree is committed; a failed reload must not look like a failed import.
          req.log.error({ err: (err as Error).message }, 'regions imported but the hub could not reload them');
        }
      }
      return {
        ok: true,
        dryRun,
        counts: result.counts,
        removedCodes: result.removedCodes,
        accepted: [...accept],
        problems: judged.problems,
        workersOutsideTree: result.workersOutsideTree,
        openIncidentsInRemovedGrids: result.openIncidentsInRemovedGrids,
        devicesDetached: result.devicesDetached,
        reloaded,
      };
    },
  );
}
