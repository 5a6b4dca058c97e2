// What a dispatch decision reads besides the incident rows: the category table with its SLA and the
// region tree with its grid locator. Loaded at start and again after an import or an admin change
// (DispatchService.reload), never per decision: a decision must not wait on a 3,000-grid read.
import type pg from 'pg';
import { gridLocatorFromTree, type GridLocator } from '../regions/grid-locator.js';
import { bboxOf } from '../regions/geo-measure.js';
import { parseRegions, type RegionTree } from '../regions/region-tree.js';
import { loadCategories } from './category-store.js';
import type { SlaCategory } from './sla-policy.js';

export class DispatchReference {
  private sla: SlaCategory[] = [];
  private regionTree: RegionTree | null = null;
  private locator: GridLocator | null = null;

  /** Re-reads categories and regions; an empty regions table keeps what was loaded before. */
  async load(pool: pg.Pool): Promise<void> {
    this.sla = await loadCategories(pool);
    const r = await pool.query('SELECT code, parent_code, level, name, geometry FROM regions');
    if (r.rows.length > 0) {
      const fc = { type: 'FeatureCollection', features: r.rows.map((x) => ({ type: 'Feature', properties: { code: x.code, parent: x.parent_code, level: x.level, name: x.name }, geometry: x.geometry })) };
      const { tree } = parseRegions(fc, { skipGeometry: true });
      this.regionTree = tree;
      this.locator = tree.regions.some((g) => g.level === 'grid') ? gridLocatorFromTree(tree) : null;
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
