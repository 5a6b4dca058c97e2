// Drill-down (issue 4, item 1): click a grid to zoom one level deeper towards it (district →
// street → community → grid); the breadcrumb goes back up. The focused region is outlined, so a
// wall screen says at a glance which part of the district it is showing.
import * as L from 'leaflet';
import type { RegionFeature } from './api-client.js';
import { escapeHtml } from './html.js';
import { tk } from './i18n.js';
import type { RegionView } from './region-layer.js';

export class DrillDown {
  private focused: string | null = null;
  private outline: L.Polygon | null = null;

  constructor(
    private readonly map: L.Map,
    private readonly view: RegionView,
    /** The top of the breadcrumb: the user's scope, or the district. */
    private readonly root: string | null,
    private readonly crumbs: HTMLElement,
  ) {
    crumbs.addEventListener('click', (e) => {
      const code = (e.target as HTMLElement).closest<HTMLElement>('[data-code]')?.dataset.code;
      if (code !== undefined) this.focus(code);
    });
  }

  current(): string | null {
    return this.focused;
  }

  /** The chain from the root down to `code` (both included), or just [code] outside the root. */
  chain(code: string): string[] {
    const out: string[] = [];
    for (let c: string | null = code; c !== null; c = this.view.regions.get(c)?.props.parent ?? null) {
      out.unshift(c);
      if (c === this.root) return out;
      if (out.length > 10) break;
    }
    return this.root === null ? out : out.filter((c) => c === code || c === this.root);
  }

  /** A grid was clicked: go one level down from the focus towards it. */
  towards(gridCode: string): void {
    const chain = this.chain(gridCode);
    const at = this.focused === null ? -1 : chain.indexOf(this.focused);
    const next = chain[at + 1] ?? chain[chain.length - 1];
    if (next !== undefined && next !== this.focused) this.focus(next);
  }

  focus(code: string, animate = true): void {
    const region = this.view.regions.get(code);
    if (!region) return;
    this.focused = code;
    this.outline?.remove();
    this.outline = L.polygon(region.layer.getLatLngs() as L.LatLngExpression[][], {
      className: 'focus-outline',
      color: '#ffffff',
      weight: 2,
      dashArray: '6 6',
      fill: false,
      interactive: false,
    }).addTo(this.map);
    const padding: L.PointExpression = [24, 24];
    if (animate) this.map.flyToBounds(region.layer.getBounds(), { padding, duration: 0.6 });
    else this.map.fitBounds(region.layer.getBounds(), { padding });
    this.render();
  }

  render(): void {
    const chain = this.focused === null ? [] : this.chain(this.focused);
    this.crumbs.innerHTML = chain
      .map((code, i) => {
        const r = this.view.regions.get(code)?.props as RegionFeature['properties'] | undefined;
        const label = `<small>${escapeHtml(tk('level', r?.level ?? ''))}</small> ${escapeHtml(r?.name ?? code)}`;
        return i === chain.length - 1
          ? `<span class="crumb current" data-current="${escapeHtml(code)}">${label}</span>`
          : `<button type="button" class="crumb" data-code="${escapeHtml(code)}">${label}</button>`;
      })
      .join('<span class="crumb-sep">›</span>');
  }
}
