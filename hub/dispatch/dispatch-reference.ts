// What a dispatch decision reads besides the incident rows: the category table with its SLA and the
// region tree with its grid locator (taken from the hub's region directory, which reads the table
// once per change). Taken at start and again after an import or an admin change
// (DispatchService.reload), never per decision: one decision never sees two trees.
import type pg from 'pg';
import type { GridLocator } from '../regions/grid-locator.js';
import { bboxOf } from '../regions/geo-measure.js';
import type { RegionTree } from '../regions/region-tree.js';
import type { RegionDirectory } from '../regions/region-directory.js';
import { loadCategories } from './category-store.js';
import type { SlaCategory } from './sla-policy.js';

export class DispatchReference {
  private sla: SlaCategory[] = [];
  private regionTree: RegionTree | null = null;
  private locator: GridLocator | null = null;

  /** Re-reads categories, takes the directory's regions; an empty regions table keeps what was taken before. */
  async load(pool: pg.Pool, regions: RegionDirectory): Promise<void> {
    this.sla = await loadCategories(pool);
    if (regions.size > 0) {
      this.regionTree = regions.tree;
      this.locator = regions.locator();
    }
  }

  get categories(): readonly SlaCategory[] {
    return this.sla;
  }

  get tree(): RegionTree | null {
    return this.regionTree;
  }

  /** Grids loaded: decisions can be made (before a region import there is nowhere to send anyone). */
  get ready(): boolean {
    return this.regionTree !== null && this.locator !== null;
  }

  get gridCount(): number {
    return this.locator?.size ?? 0;
  }

  gridLocator(): GridLocator {
    if (!this.locator) throw new Error('no grids loaded: import the region tree first (PUT /api/regions)');
    return this.locator;
  }

  /** Where to put an alert from a device registered with a grid but no coordinates. */
  gridCentre(code: string | null): { lat: number; lon: number } | null {
    const g = code ? this.regionTree?.byCode.get(code) : undefined;
    if (!g) return null;
    const b = bboxOf(g.geometry);
    return { lat: (b.minLat + b.maxLat) / 2, lon: (b.minLon + b.maxLon) / 2 };
  }

  /** The names a task text shows (task-text.ts): the category in Chinese, the grid's own name. */
  categoryName(code: string): string {
    return this.sla.find((c) => c.code === code)?.nameZh ?? code;
  }

  placeName(gridCode: string): string | null {
    return this.regionTree?.byCode.get(gridCode)?.name ?? null;
  }
}
