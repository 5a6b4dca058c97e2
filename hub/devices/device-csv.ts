// The devices CSV (issue 15 §1): UTF-8 with a header row, a BOM accepted (Excel writes one),
// RFC 4180 quoting, CRLF or LF. One row per device; the column names are the export's.
// No dependency for this: the format is small and a parser we own reports line numbers.

/** What both directions carry about a device. */
const DEVICE_COLUMNS = [
  'id',
  'kind',
  'protocol',
  'protocol_id',
  'name',
  'worker_id',
  'grid_code',
  'lat',
  'lon',
  'model',
  'firmware',
  'enabled',
] as const;
/** Columns an import reads; `created_at` and `last_seen` (export only) are accepted and ignored. */
export const CSV_COLUMNS = [...DEVICE_COLUMNS, 'secret'] as const;
export const EXPORT_COLUMNS = [...DEVICE_COLUMNS, 'created_at', 'last_seen'] as const;
const READ_ONLY = new Set(['created_at', 'last_seen']);

export type CsvColumn = (typeof CSV_COLUMNS)[number];

export interface CsvRow {
  /** Line of the file where the row starts (the header is line 1). */
  line: number;
  values: Partial<Record<CsvColumn, string>>;
}

export interface ParsedCsv {
  rows: CsvRow[];
  /** Problems with the file as a whole (header, quoting): the import refuses it. */
  problems: string[];
}

/** Splits the text into records of fields, with the line each record starts on. */
function records(text: string): { fields: string[]; line: number }[] | string {
  const out: { fields: string[]; line: number }[] = [];
  let field = '';
  let fields: string[] = [];
  let quoted = false;
  let line = 1;
  let start = 1;
  let fieldStarted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') {
        quoted = false;
      } else {
        if (c === '\n') line++;
        field += c;
      }
      continue;
    }
    if (c === '"' && !fieldStarted) {
      quoted = true;
      fieldStarted = true;
    } else if (c === ',') {
      fields.push(field);
      field = '';
      fieldStarted = false;
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      fields.push(field);
      out.push({ fields, line: start });
      fields = [];
      field = '';
      fieldStarted = false;
      line++;
      start = line;
    } else {
      field += c;
      fieldStarted = true;
    }
  }
  if (quoted) return `line ${start}: a quoted field is never closed`;
  if (field !== '' || fields.length > 0) {
    fields.push(field);
    out.push({ fields, line: start });
  }
  return out;
}

export function parseDeviceCsv(input: string): ParsedCsv {
  const text = input.replace(/^\uFEFF/, '');
  const recs = records(text);
  if (typeof recs === 'string') return { rows: [], problems: [recs] };
  const nonEmpty = recs.filter((r) => r.fields.some((f) => f.trim() !== ''));
  const header = nonEmpty.shift();
  if (!header) return { rows: [], problems: ['the file is empty: it needs a header row (id,kind,…) and one row per device'] };
  const names = header.fields.map((h) => h.trim().toLowerCase());
  const problems: string[] = [];
  const unknown = names.filter((n) => !(CSV_COLUMNS as readonly string[]).includes(n) && !READ_ONLY.has(n));
  if (unknown.length)
    problems.push(`unknown column(s) ${unknown.map((u) => JSON.stringify(u)).join(', ')}; the columns are ${CSV_COLUMNS.join(', ')}`);
  const dupes = names.filter((n, i) => names.indexOf(n) !== i);
  if (dupes.length) problems.push(`column(s) named twice: ${[...new Set(dupes)].join(', ')}`);
  if (!names.includes('kind')) problems.push('the header has no "kind" column');
  if (problems.length) return { rows: [], problems };
  const rows: CsvRow[] = [];
  for (const r of nonEmpty) {
    if (r.fields.length !== names.length) {
      problems.push(`line ${r.line}: ${r.fields.length} fields, the header has ${names.length}`);
      continue;
    }
    const values: Partial<Record<CsvColumn, string>> = {};
    names.forEach((n, i) => {
      if (!READ_ONLY.has(n)) values[n as CsvColumn] = r.fields[i]!.trim();
    });
    rows.push({ line: r.line, values });
  }
  return { rows, problems };
}

/** A field as CSV: quoted when it holds a comma, quote or line break. Text that a spreadsheet
 *  would run as a formula (=, +, -, @ first) gets a leading apostrophe (OWASP CSV injection). */
export function csvField(v: string | number | boolean | null, text = false): string {
  if (v === null) return '';
  let s = String(v);
  if (text && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
}
