// Regions over HTTP: GET /api/regions exports the tree as GeoJSON (optionally one level or one
// subtree), PUT /api/regions replaces it (issue 3 item 1). The import policy lives in
// region-store.ts; the HTTP shapes are the contract's (protocol/region-api.ts, issue 17 item 4).
// Refusals are AppErrors in the hub's one envelope ({ ok:false, error:{ code, message } }) with the
// problem list the operator has to work through beside it.
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { AppError } from '../../common/error-codes.js';
import { REGION_ROUTES as R } from '../../protocol/region-api.js';
import { areaOf } from '../auth/request-area.js';
import type { ZodTypeProvider } from '../../common/zod-schema.js';
import type { RegionDirectory } from './region-directory.js';
import { assessRegionImport, parseAcceptFlags, readRegions, replaceRegions } from './region-store.js';

export interface RegionRouteOptions {
  pool: pg.Pool;
  /** The hub's region directory: read again here after a committed import, before anyone else reloads. */
  regions: RegionDirectory;
  /** Called after a committed import; the hub reloads its grid locator and live state here. */
  onRegionsChanged?: () => void | Promise<void>;
  /** Largest accepted GeoJSON body. Default 64 MiB (a city of 3,000+ detailed grids). */
  bodyLimit?: number;
}

export async function regionRoutes(fastify: FastifyInstance, opts: RegionRouteOptions): Promise<void> {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const { pool } = opts;
  const bodyLimit = opts.bodyLimit ?? 64 * 1024 * 1024;
  // GIS tools send GeoJSON as application/geo+json (RFC 7946 §12); parse it like JSON, here only.
  app.addContentTypeParser('application/geo+json', { parseAs: 'string', bodyLimit }, app.getDefaultJsonParser('error', 'error'));

  app.route({
    ...R.exportRegions,
    // A scoped screen gets its own subtree (the page draws nothing else); `root` must lie in it.
    config: { access: 'read', areaParam: 'root' },
    handler: async (req) => {
      const area = areaOf(req);
      const fc = await readRegions(pool, area.all || req.query.root !== undefined ? req.query : { ...req.query, root: area.scope });
      if (!fc) throw new AppError('REGION_NOT_FOUND');
      return fc;
    },
  });

  app.route({
    ...R.importRegions,
    // The whole district's tree: hub-wide, an admin of the whole tree only.
    config: { access: 'system', body: 'geojson' },
    bodyLimit,
    handler: async (req) => {
      const accept = parseAcceptFlags(req.query.accept ? [req.query.accept] : []);
      const judged = assessRegionImport(req.body, accept);
      if (judged.verdict === 'unparseable') throw new AppError('REGIONS_UNPARSEABLE', { issues: judged.issues });
      if (judged.verdict === 'invalid')
        throw new AppError(judged.noGrid ? 'REGIONS_NO_GRID' : 'REGIONS_INVALID', { problems: judged.problems });
      if (judged.verdict === 'refused') throw new AppError('REGIONS_GEOMETRY_REFUSED', { problems: judged.problems, needs: judged.needs });
      const dryRun = req.query.dryRun;
      const result = await replaceRegions(pool, judged.tree, { accept, dryRun });
      if (result.outcome === 'in_use')
        throw new AppError('REGIONS_IN_USE', { devices: result.devicesInRemovedRegions, removedCodes: result.removedCodes });
      let reloaded = false;
      if (!dryRun) {
        try {
          await opts.regions.load();
          await opts.onRegionsChanged?.();
          reloaded = opts.onRegionsChanged !== undefined;
        } catch (err) {
          // The tree is committed; a failed reload must not look like a failed import.
          req.log.error({ err: (err as Error).message }, 'regions imported but the hub could not reload them');
        }
      }
      return {
        ok: true as const,
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
  });
}
