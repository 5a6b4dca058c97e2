// Region polygons: district → street → community → grid (DESIGN §4). Grids are filled and
// hoverable; the coarser levels are drawn above them as thicker, non-interactive borders so
// "whose grid is this" reads at a glance. SVG, not canvas: a few thousand static paths are cheap
// in SVG, keep crisp hover, and tests can count them in the DOM.
import * as L from 'leaflet';
import type { RegionFeature, RegionLevel } from './api-client.js';
import { escapeHtml } from './html.js';

const STYLE: Record<RegionLevel, L.PathOptions> = {
  grid: { color: '#2f7fc1', weight: 1, opacity: 0.8, fill: true, fillColor: '#12355a', fillOpacity: 0.35 },
  community: { color: '#4fa3e8', weight: 2.5, opacity: 0.9, fill: false },
  street: { color: '#7cc4ff', weight: 3.5, opacity: 0.95, fill: false },
  district: { color: '#b8e0ff', weight: 4.5, opacity: 1, fill: false },
};
/** Bottom to top. */
const DRAW_ORDER: RegionLevel[] = ['grid', 'community', 'street', 'district'];

export interface RegionView {
  /** Grid-level polygons drawn; each is an SVG path with class `region-grid`. */
  gridCount: number;
  bounds: L.LatLngBounds | null;
  /** Label anchor per region code, by level (used by the label layer). */
  anchors: Map<RegionLevel, Array<{ code: string; name: string; at: L.LatLng }>>;
  /** Every drawn region by code: its polygon layer (bounds, rings) and properties. */
  regions: Map<string, { layer: L.Polygon; props: RegionFeature['properties'] }>;
}

export function drawRegions(map: L.Map, features: RegionFeature[]): RegionView {
  // Small padding: a 2x-viewport SVG layer was left part-rasterised in headless screenshots on a
  // busy machine; 0.2 still hides redraw edges during a pan.
  const svg = L.svg({ padding: 0.2 });
  const names = new Map(features.map((f) => [f.properties.code, f.properties.name]));
  const anchors = new Map<RegionLevel, Array<{ code: string; name: string; at: L.LatLng }>>();
  let bounds: L.LatLngBounds | null = null;
  let gridCount = 0;
  const regions: RegionView['regions'] = new Map();

  for (const level of DRAW_ORDER) {
    const ofLevel = features.filter((f) => f.properties.level === level);
    if (ofLevel.length === 0) continue;
    const layer = L.geoJSON<RegionFeature['properties']>(ofLevel, {
      // The code as a class too: tests (and a person in devtools) find a region's path by it.
      style: (f) => ({ ...STYLE[level], className: `region region-${level} region-code-${f?.properties.code ?? ''}` }),
      interactive: level === 'grid',
      // Leaflet's geoJSON options type lacks `renderer`, though Path layers honour it.
      ...({ renderer: svg } as L.GeoJSONOptions),
    });
    layer.addTo(map);
    const list: Array<{ code: string; name: string; at: L.LatLng }> = [];
    layer.eachLayer((l) => {
      if (!(l instanceof L.Polygon)) return;
      const p = (l.feature as RegionFeature).properties;
      regions.set(p.code, { layer: l, props: p });
      if (level === 'grid') {
        gridCount++;
        const parent = p.parent === null ? '' : (names.get(p.parent) ?? p.parent);
        l.bindTooltip(`<b>${escapeHtml(p.name)}</b><br>${escapeHtml(p.code)}${parent ? ` · ${escapeHtml(parent)}` : ''}`, {
          sticky: true,
          className: 'region-tip',
        });
        l.on('mouseover', () => l.setStyle({ fillOpacity: 0.6 }));
        l.on('mouseout', () => l.setStyle({ fillOpacity: STYLE.grid.fillOpacity ?? 0.35 }));
      }
      list.push({ code: p.code, name: p.name, at: l.getCenter() });
    });
    anchors.set(level, list);
    const b = layer.getBounds();
    if (b.isValid()) bounds = bounds ? bounds.extend(b) : L.latLngBounds(b.getSouthWest(), b.getNorthEast());
  }
  return { gridCount, bounds, anchors, regions };
}

/** Most labels we put on screen at once; past this the finest level gives way to a coarser one. */
const MAX_LABELS = 250;
const LABEL_LEVELS: RegionLevel[] = ['grid', 'community', 'street', 'district'];

/**
 * Names of the regions in view, at the finest level that still fits: grid names when zoomed in,
 * community or street names when the whole district is on screen. DOM labels, added and removed
 * on pan/zoom, so 3,000 grids never mean 3,000 positioned elements.
 */
export function attachRegionLabels(map: L.Map, view: RegionView): void {
  map.createPane('labels').style.zIndex = '420';
  const shown = new Map<string, L.Marker>();

  const update = (): void => {
    const inView = map.getBounds().pad(0.05);
    let pick: Array<{ code: string; name: string; at: L.LatLng; level: RegionLevel }> = [];
    for (const level of LABEL_LEVELS) {
      const visible = (view.anchors.get(level) ?? []).filter((a) => inView.contains(a.at));
      if (visible.length === 0) continue;
      pick = visible.map((a) => ({ ...a, level }));
      if (visible.length <= MAX_LABELS) break;
      pick = []; // too many at this level: try a coarser one
    }
    const want = new Set(pick.map((p) => `${p.level}:${p.code}`));
    for (const [key, m] of shown) {
      if (!want.has(key)) {
        m.remove();
        shown.delete(key);
      }
    }
    for (const p of pick) {
      const key = `${p.level}:${p.code}`;
      if (shown.has(key)) continue;
      const icon = L.divIcon({
        className: `region-label label-${p.level}`,
        html: `<span>${escapeHtml(p.name)}</span>`,
        iconSize: undefined,
      });
      shown.set(key, L.marker(p.at, { icon, pane: 'labels', interactive: false, keyboard: false }).addTo(map));
    }
  };
  map.on('zoomend moveend', update);
  update();
}
