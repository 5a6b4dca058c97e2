import { describe, expect, it } from 'vitest';
import {
  ancestorAtLevel,
  descendantsAtLevel,
  parseRegions,
  RegionImportError,
  regionsToGeoJSON,
  type Problem,
} from '../../../hub/regions/region-tree.js';
import { fixture } from './fixtures.js';

const codes = (problems: Problem[], code: Problem['code']): string[] =>
  problems
    .filter((p) => p.code === code)
    .map((p) => p.regionCode)
    .sort();

// 0.001° of longitude × 0.01° of latitude at 27.005°N, in m² (spherical Earth, as turf measures).
const STRIP_M2 = 0.001 * 111_195 * Math.cos((27.005 * Math.PI) / 180) * 0.01 * 111_195;

describe('parseRegions', () => {
  it('accepts a clean two-street district with no problems', () => {
    const { tree, problems } = parseRegions(fixture('two-streets.geojson'));
    expect(problems).toEqual([]);
    expect(tree.regions).toHaveLength(10);
    expect(tree.roots).toEqual(['430211']);
    expect(tree.children.get('430211')).toEqual(['430211001', '430211002']);
    expect(tree.byCode.get('430211001001-01')?.geometry.type).toBe('MultiPolygon');
  });

  it('round-trips GeoJSON import → export unchanged (ids, extra properties, holes, MultiPolygons)', () => {
    const input = fixture('two-streets.geojson');
    const { tree } = parseRegions(input);
    const exported = regionsToGeoJSON(tree);
    expect(exported).toEqual(input);
    const again = parseRegions(JSON.parse(JSON.stringify(exported)));
    expect(again.tree.regions).toEqual(tree.regions);
    expect(again.problems).toEqual([]);
  });

  it('finds the overlap (exact area) and the gap (sampled) in a hand-made community', () => {
    const { problems } = parseRegions(fixture('overlap-and-gap.geojson'));
    const overlap = problems.filter((p) => p.code === 'overlap');
    expect(overlap).toHaveLength(1);
    expect(overlap[0]).toMatchObject({ regionCode: 'C1-G1', otherCode: 'C1-G2', severity: 'error' });
    expect(overlap[0].areaM2).toBeGreaterThan(STRIP_M2 * 0.99);
    expect(overlap[0].areaM2).toBeLessThan(STRIP_M2 * 1.01);
    expect(overlap[0].at?.[0]).toBeCloseTo(113.0105, 6);

    const gap = problems.filter((p) => p.code === 'gap');
    expect(gap).toHaveLength(1);
    expect(gap[0].regionCode).toBe('C1');
    expect(gap[0].areaM2).toBeGreaterThan(STRIP_M2 * 0.85);
    expect(gap[0].areaM2).toBeLessThan(STRIP_M2 * 1.15);
    expect(gap[0].at?.[0]).toBeGreaterThan(113.02);
    expect(gap[0].at?.[0]).toBeLessThan(113.021);
    expect(gap[0].messageZh).toContain('抽样');
    expect(problems.filter((p) => !['overlap', 'gap'].includes(p.code))).toEqual([]);
  });

  it('reports overlaps in the same order whatever the feature order', () => {
    const input = fixture('overlap-and-gap.geojson') as { type: string; features: unknown[] };
    const reversed = { ...input, features: [...input.features].reverse() };
    const a = parseRegions(input).problems.filter((p) => p.code === 'overlap');
    const b = parseRegions(reversed).problems.filter((p) => p.code === 'overlap');
    expect(b).toEqual(a);
  });

  it('reports, not throws, structural and ring defects', () => {
    const { tree, problems } = parseRegions(fixture('broken-tree.geojson'));
    expect(codes(problems, 'duplicate_code')).toEqual(['S']);
    expect(tree.byCode.get('S')?.name).toBe('街道'); // the first one wins
    expect(codes(problems, 'level_mismatch')).toEqual(['G-skip', 'X1', 'X2']);
    expect(codes(problems, 'parent_missing')).toEqual(['G-orphan']);
    expect(codes(problems, 'ring_not_closed')).toEqual(['C-open']);
    expect(codes(problems, 'ring_too_short')).toEqual(['C-line']);
    expect(codes(problems, 'cycle')).toHaveLength(1);
    for (const p of problems) {
      expect(p.messageZh.length).toBeGreaterThan(0);
      expect(p.messageEn.length).toBeGreaterThan(0);
    }
  });

  it('reports a child reaching outside its parent', () => {
    const input = fixture('overlap-and-gap.geojson') as {
      features: { properties: { code: string }; geometry: { coordinates: number[][][] } }[];
    };
    const g3 = input.features.find((f) => f.properties.code === 'C1-G3');
    if (!g3) throw new Error('fixture changed');
    g3.geometry.coordinates = [
      [
        [113.021, 27.0],
        [113.031, 27.0],
        [113.031, 27.01],
        [113.021, 27.01],
        [113.021, 27.0],
      ],
    ];
    const out = parseRegions(input).problems.filter((p) => p.code === 'outside_parent');
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ regionCode: 'C1-G3', otherCode: 'C1' });
    expect(out[0].areaM2).toBeGreaterThan(STRIP_M2 * 0.99);
  });

  it.each([
    ['not an object', 42],
    ['not a FeatureCollection', { type: 'Feature' }],
    [
      'a feature without a code',
      {
        type: 'FeatureCollection',
        features: [
          {
            type: 'Feature',
            properties: { parent: null, level: 'grid', name: 'x' },
            geometry: {
              type: 'Polygon',
              coordinates: [
                [
                  [0, 0],
                  [1, 0],
                  [1, 1],
                  [0, 0],
                ],
              ],
            },
          },
        ],
      },
    ],
    [
      'an unknown level',
      {
        type: 'FeatureCollection',
        features: [
          {
            type: 'Feature',
            properties: { code: 'a', parent: null, level: 'village', name: 'x' },
            geometry: {
              type: 'Polygon',
              coordinates: [
                [
                  [0, 0],
                  [1, 0],
                  [1, 1],
                  [0, 0],
                ],
              ],
            },
          },
        ],
      },
    ],
    [
      'a Point geometry',
      {
        type: 'FeatureCollection',
        features: [
          {
            type: 'Feature',
            properties: { code: 'a', parent: null, level: 'grid', name: 'x' },
            geometry: { type: 'Point', coordinates: [0, 0] },
          },
        ],
      },
    ],
    [
      'a latitude out of range',
      {
        type: 'FeatureCollection',
        features: [
          {
            type: 'Feature',
            properties: { code: 'a', parent: null, level: 'grid', name: 'x' },
            geometry: {
              type: 'Polygon',
              coordinates: [
                [
                  [0, 0],
                  [1, 95],
                  [1, 1],
                  [0, 0],
                ],
              ],
            },
          },
        ],
      },
    ],
  ])('throws RegionImportError on %s', (_label, input) => {
    expect(() => parseRegions(input)).toThrow(RegionImportError);
  });

  it('walks the tree: ancestor at a level, grids under a region', () => {
    const { tree } = parseRegions(fixture('two-streets.geojson'), { skipGeometry: true });
    expect(ancestorAtLevel(tree, '430211002001-03', 'street')?.code).toBe('430211002');
    expect(ancestorAtLevel(tree, '430211002001-03', 'grid')?.code).toBe('430211002001-03');
    expect(ancestorAtLevel(tree, 'nope', 'street')).toBeNull();
    expect(descendantsAtLevel(tree, '430211002', 'grid')).toEqual(['430211002001-01', '430211002001-02', '430211002001-03']);
    expect(descendantsAtLevel(tree, '430211', 'grid')).toHaveLength(5);
  });
});
