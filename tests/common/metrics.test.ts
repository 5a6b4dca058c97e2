// Counters by name and labels: one label set is one counter however its object was built, the key
// escapes what Prometheus text cannot carry, and the one-label shortcut agrees with the general key.
import { describe, expect, it } from 'vitest';
import { Metrics } from '../../common/metrics.js';

describe('Metrics', () => {
  it('counts one label set as one counter, apart from other values, names and label sets', () => {
    const m = new Metrics();
    for (let i = 0; i < 3; i++) m.inc('ingest_accepted_total', { channel: 'location' });
    m.inc('ingest_accepted_total', { channel: 'status' });
    m.inc('ingest_rejected_total', { channel: 'location' });
    m.inc('ingest_accepted_total', { reason: 'location' });
    m.inc('two_total', { b: '2', a: '1' });
    m.inc('two_total', { a: '1', b: '2' }, 4);
    expect(m.get('ingest_accepted_total', { channel: 'location' })).toBe(3);
    expect(m.get('ingest_accepted_total', { channel: 'status' })).toBe(1);
    expect(m.get('ingest_rejected_total', { channel: 'location' })).toBe(1);
    expect(m.total('ingest_accepted_total')).toBe(5);
    expect(m.render()).toContain('two_total{a="1",b="2"} 5');
    expect(m.render()).toContain('ingest_accepted_total{reason="location"} 1');
  });

  it('escapes quotes, backslashes and newlines in a label value, cached or not', () => {
    const m = new Metrics();
    for (let i = 0; i < 2; i++) m.inc('odd_total', { reason: 'a"b\\c\nd' });
    expect(m.render()).toContain('odd_total{reason="a_b_c_d"} 2');
  });

  it('keeps counting labels past the cached values', () => {
    const m = new Metrics();
    for (let i = 0; i < 1500; i++) m.inc('many_total', { id: `d${i}` });
    m.inc('many_total', { id: 'd1499' });
    expect(m.get('many_total', { id: 'd1499' })).toBe(2);
    expect(m.total('many_total')).toBe(1501);
  });
});
