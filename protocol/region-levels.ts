// The levels of the region tree, declared once for the hub (import, store, scopes), the CLIs and the
// command screen. District → street → community → grid is the governance grid itself (DESIGN §4:
// one office per level, a worker per grid); unit and cell divide a grid further (Rongcheng's
// three-level grid: base grid / unit / cell), imported and kept but not drawn on the command screen.
// The zod enum is marked pure so the screen's bundle, which takes only the constants, carries no zod.
import { z } from 'zod';

/** From the district down to the grid: the levels the command screen draws and drills through. */
export const LEVELS_TO_GRID = ['district', 'street', 'community', 'grid'] as const;
/** Every level a region may have, coarsest first; a child sits exactly one level below its parent. */
export const REGION_LEVELS = [...LEVELS_TO_GRID, 'unit', 'cell'] as const;

export const regionLevelSchema = /* @__PURE__ */ z.enum(REGION_LEVELS);
export type RegionLevel = z.infer<typeof regionLevelSchema>;
export type LevelToGrid = (typeof LEVELS_TO_GRID)[number];

/** 0 for the district, one more per level down: a child's rank is its parent's plus one. */
export const levelRank = (level: RegionLevel): number => REGION_LEVELS.indexOf(level);
