// The regions HTTP API as zod (issue 17 item 4): the tree exported as GeoJSON, and replaced by an
// import that answers with what it changed and what the operator has to work through. Served by
// hub/regions/region-routes.ts; the refusals (422 REGIONS_*, 409 REGIONS_IN_USE) use the one
// error envelope, with the problem list beside it.
import { z } from 'zod';
import { queryFlag, regionCode, route } from './http-contract.js';
import { regionLevelSchema } from './region-levels.js';

/** What an import may be told to accept: geometric problems, and detaching devices from removed regions. */
export const ACCEPT_FLAGS = ['overlaps', 'gaps', 'outside', 'detach'] as const;
const acceptWord = `(${ACCEPT_FLAGS.join('|')}|overlap|gap)`;

/** A problem of an import, as region-problems.ts reports it (zh-CN and en). */
export const regionProblemSchema = z.object({
  code: z.string(),
  severity: z.enum(['error', 'warning']),
  regionCode: z.string(),
  otherCode: z.string().optional(),
  areaM2: z.number().optional(),
  at: z.tuple([z.number(), z.number()]).optional(),
  messageZh: z.string(),
  messageEn: z.string(),
});

// Coordinates are left unchecked on the way out: the tree was judged when it was imported, and a
// city's polygons are megabytes that a reply check would walk on every export.
const geometry = z.object({ type: z.enum(['Polygon', 'MultiPolygon']), coordinates: z.array(z.unknown()) });
export const regionFeatureSchema = z.object({
  type: z.literal('Feature'),
  geometry,
  properties: z.looseObject({ code: z.string(), parent: z.string().nullable(), level: regionLevelSchema, name: z.string() }),
});
export const regionCollectionSchema = z.object({ type: z.literal('FeatureCollection'), features: z.array(regionFeatureSchema) });

const idAndGrid = z.object({ id: z.string(), gridCode: z.string() });

export const REGION_ROUTES = {
  exportRegions: route('GET', '/api/regions', {
    summary: "The region tree as GeoJSON: the caller's subtree, or one level, or the subtree under `root`",
    querystring: z.strictObject({ level: regionLevelSchema.optional(), root: regionCode.optional() }),
    response: { 200: regionCollectionSchema },
  }),
  importRegions: route('PUT', '/api/regions', {
    summary:
      'Replace the whole tree (GeoJSON FeatureCollection; application/geo+json too). 422 with the problems, 409 when devices hang in removed regions',
    querystring: z.strictObject({
      accept: z
        .string()
        .max(100)
        .regex(new RegExp(`^${acceptWord}(,${acceptWord})*$`))
        .optional(),
      dryRun: queryFlag.default(false),
    }),
    // Only the envelope here: the features are judged by parseRegions, which reports every defect
    // at once (422) instead of the first one (400).
    body: z.looseObject({ type: z.string(), features: z.array(z.unknown()) }),
    response: {
      200: z.object({
        ok: z.literal(true),
        dryRun: z.boolean(),
        counts: z.object({ total: z.number().int(), added: z.number().int(), updated: z.number().int(), removed: z.number().int() }),
        removedCodes: z.array(z.string()),
        accepted: z.array(z.enum(ACCEPT_FLAGS)),
        problems: z.array(regionProblemSchema),
        workersOutsideTree: z.array(z.object({ id: z.string(), name: z.string(), missingGridCodes: z.array(z.string()) })),
        openIncidentsInRemovedGrids: z.array(idAndGrid),
        devicesDetached: z.array(z.string()),
        reloaded: z.boolean(),
      }),
    },
  }),
} as const;
