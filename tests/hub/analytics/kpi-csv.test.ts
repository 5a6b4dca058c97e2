import { describe, expect, it } from 'vitest';
import { csvField } from '../../../hub/analytics/kpi-csv.js';

describe('csvField', () => {
  it('quotes separators, quotes and line breaks (RFC 4180)', () => {
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('一网格')).toBe('一网格');
  });

  it('defuses spreadsheet formulas in text, not in numbers', () => {
    expect(csvField('=HYPERLINK("http://x")')).toBe(`"'=HYPERLINK(""http://x"")"`);
    expect(csvField('+1')).toBe("'+1");
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvField(-3)).toBe('-3');
  });

  it('writes null as empty and rounds fractions to 6 places', () => {
    expect(csvField(null)).toBe('');
    expect(csvField(2 / 3)).toBe('0.666667');
    expect(csvField(1_500_000)).toBe('1500000');
  });
});
