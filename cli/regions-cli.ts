// `npm run regions -- <check|import|export>`: the region tree as GeoJSON files (issue 3 item 1).
// check works offline; import/export use the database the hub uses (DATABASE_URL, else the
// embedded one in DATA_DIR/pg), or a running hub's HTTP API with --hub, which also makes the hub
// reload its grids at once. The judging is the hub's own (hub/regions/region-store.ts).
import { readFile, writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { loadConfig, type Config } from '../common/config.js';
import { openDatabase, type Database } from '../storage/database.js';
import { CliFailure, EXIT, runGuarded, type CliIo } from './cli-common.js';
import type { Problem } from '../hub/regions/region-tree.js';
import { REGION_LEVELS, type RegionLevel } from '../protocol/region-levels.js';
import {
  assessRegionImport,
  parseAcceptFlags,
  readRegions,
  replaceRegions,
  type AcceptFlag,
  type ImportAssessment,
} from '../hub/regions/region-store.js';

export { EXIT, type CliIo } from './cli-common.js';

const USAGE = `usage:
  npm run regions -- check  <file.geojson> [--accept overlaps,gaps,outside]
  npm run regions -- import <file.geojson> [--accept overlaps,gaps,outside,detach] [--dry-run] [--hub http://host:8080 [--token T]]
  npm run regions -- export [--out file.geojson] [--level grid] [--root CODE] [--hub http://host:8080 [--token T]]
  (--token, or HUB_TOKEN: a bearer token when the hub requires login, from POST /api/auth/login with bearer:true)
exit codes: 0 done, 1 refused (problems listed), 2 bad command or file, 3 database or hub unavailable`;

export async function runRegionsCli(argv: readonly string[], io: CliIo): Promise<number> {
  return runGuarded(io, () => run(argv, io));
}

async function run(argv: readonly string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        accept: { type: 'string', multiple: true },
        'dry-run': { type: 'boolean' },
        hub: { type: 'string' },
        token: { type: 'string' },
        out: { type: 'string' },
        level: { type: 'string' },
        root: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new CliFailure(EXIT.USAGE, `${(err as Error).message}\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  const [command, file, ...extra] = positionals;
  if (values.help) {
    io.err(USAGE);
    return EXIT.OK;
  }
  let accept: Set<AcceptFlag>;
  try {
    accept = parseAcceptFlags(values.accept ?? []);
  } catch (err) {
    throw new CliFailure(EXIT.USAGE, (err as Error).message);
  }
  const needsFile = command === 'check' || command === 'import';
  if (!command || !['check', 'import', 'export'].includes(command) || (needsFile && !file) || (!needsFile && file) || extra.length > 0) {
    throw new CliFailure(EXIT.USAGE, USAGE);
  }
  if (command === 'export') {
    const level = values.level;
    if (level !== undefined && !(REGION_LEVELS as readonly string[]).includes(level)) {
      throw new CliFailure(EXIT.USAGE, `--level must be one of ${REGION_LEVELS.join(', ')}`);
    }
    return exportRegions(
      { level: level as RegionLevel | undefined, root: values.root },
      values.out,
      hubOf(values.hub, values.token, io),
      io,
    );
  }
  const input = await readGeoJson(file as string);
  if (command === 'check') return report(file as string, assessRegionImport(input, accept), accept, io, 'check');
  return importRegions(file as string, input, accept, values['dry-run'] ?? false, hubOf(values.hub, values.token, io), io);
}

interface HubTarget {
  url: string;
  token: string | undefined;
}

function hubOf(url: string | undefined, token: string | undefined, io: CliIo): HubTarget | undefined {
  return url ? { url, token: token ?? io.env.HUB_TOKEN } : undefined;
}

async function readGeoJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new CliFailure(EXIT.USAGE, `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    return JSON.parse(text.replace(/^\uFEFF/, '')); // files saved by Windows GIS tools start with a BOM
  } catch (err) {
    throw new CliFailure(EXIT.USAGE, `${file} is not JSON: ${(err as Error).message}`);
  }
}

function problemLine(p: Problem): string {
  const where = p.otherCode ? `${p.regionCode} ↔ ${p.otherCode}` : p.regionCode;
  const area = p.areaM2 === undefined ? '' : ` ~${Math.round(p.areaM2)} m²`;
  const at = p.at ? ` at ${p.at[0].toFixed(6)},${p.at[1].toFixed(6)}` : '';
  return `  ${p.severity === 'error' ? 'ERROR' : 'warn '} ${p.code.padEnd(15)} ${where}${area}${at}\n        ${p.messageZh}\n        ${p.messageEn}`;
}

/** Prints the verdict of the import policy; returns the exit code. */
function report(file: string, judged: ImportAssessment, accept: ReadonlySet<AcceptFlag>, io: CliIo, mode: 'check' | 'import'): number {
  if (judged.verdict === 'unparseable') {
    io.err(
      `${file} is not a region FeatureCollection (each feature needs properties code, parent, level, name and a Polygon or MultiPolygon):`,
    );
    for (const i of judged.issues.slice(0, 50)) io.err(`  ${i}`);
    if (judged.issues.length > 50) io.err(`  … and ${judged.issues.length - 50} more`);
    return EXIT.REFUSED;
  }
  for (const p of judged.problems) io.err(problemLine(p));
  if (judged.verdict === 'invalid') {
    io.err(
      judged.noGrid
        ? `${file} has no region at level grid: without grids no incident could have an owner. Nothing was imported.`
        : `${file} has structural errors (above). Nothing was imported. Fix them and run: npm run regions -- check ${file}`,
    );
    return EXIT.REFUSED;
  }
  if (judged.verdict === 'refused') {
    io.err(`${file}: ${judged.problems.filter((p) => p.severity === 'error').length} geometric problem(s) above. Nothing was imported.`);
    io.err(`Fix them, or accept them knowingly: --accept ${[...new Set([...accept, ...judged.needs])].join(',')}`);
    return EXIT.REFUSED;
  }
  const counts = new Map<string, number>();
  for (const r of judged.tree.regions) counts.set(r.level, (counts.get(r.level) ?? 0) + 1);
  const summary = REGION_LEVELS.filter((l) => counts.has(l))
    .map((l) => `${counts.get(l)} ${l}`)
    .join(', ');
  if (mode === 'check')
    io.err(
      `${file}: ${summary}; ${judged.problems.length === 0 ? 'no problems' : 'accepted problems listed above'}. Import with: npm run regions -- import ${file}${accept.size ? ` --accept ${[...accept].join(',')}` : ''}`,
    );
  return EXIT.OK;
}

function openLogger(env: NodeJS.ProcessEnv) {
  // Logs to stderr, quiet by default: stdout may be the exported GeoJSON.
  return pino({ level: env.LOG_LEVEL ?? 'warn' }, pino.destination(2));
}

async function withDatabase<T>(io: CliIo, work: (db: Database) => Promise<T>): Promise<T> {
  let config: Config;
  try {
    config = loadConfig(io.env);
  } catch (err) {
    throw new CliFailure(EXIT.USAGE, (err as Error).message);
  }
  const where = config.DATABASE_URL ? 'DATABASE_URL' : `the embedded database in ${config.DATA_DIR}/pg`;
  if (!config.DATABASE_URL) {
    // The embedded engine is one process's: a second opener would corrupt it. A hub answering on its
    // address most likely holds it.
    const hub = `http://${config.HOST}:${config.HTTP_PORT}`;
    const up =
      config.HTTP_PORT !== 0 &&
      (await fetch(`${hub}/health`, { signal: AbortSignal.timeout(700) }).then(
        (r) => r.ok,
        () => false,
      ));
    if (up)
      throw new CliFailure(EXIT.UNAVAILABLE, `A hub is running at ${hub} and owns ${config.DATA_DIR}/pg. Go through it: add --hub ${hub}`);
  }
  io.err(`opening ${where} …`);
  let db: Database;
  try {
    db = await openDatabase(config, openLogger(io.env));
  } catch (err) {
    throw new CliFailure(
      EXIT.UNAVAILABLE,
      `cannot open ${where}: ${(err as Error).message}\nCheck DATABASE_URL (or DATA_DIR), or go through a running hub with --hub http://host:8080`,
    );
  }
  try {
    return await work(db);
  } finally {
    await db.close();
  }
}

async function importRegions(
  file: string,
  input: unknown,
  accept: Set<AcceptFlag>,
  dryRun: boolean,
  hub: HubTarget | undefined,
  io: CliIo,
): Promise<number> {
  if (hub) return importThroughHub(file, input, accept, dryRun, hub, io);
  io.err(`checking ${file} …`);
  const judged = assessRegionImport(input, accept);
  const verdict = report(file, judged, accept, io, 'import');
  if (judged.verdict !== 'ok') return verdict;
  return withDatabase(io, async (db) => {
    const result = await replaceRegions(db.pool, judged.tree, { accept, dryRun });
    return printResult(file, { ...result, dryRun, reloaded: false, direct: true }, io);
  });
}

interface ResultView {
  dryRun: boolean;
  counts: { total: number; added: number; updated: number; removed: number };
  removedCodes: string[];
  devicesDetached: string[];
  workersOutsideTree: Array<{ id: string; name: string; missingGridCodes: string[] }>;
  openIncidentsInRemovedGrids?: Array<{ id: string; gridCode: string }>;
  devicesInRemovedRegions?: Array<{ id: string; gridCode: string }>;
  outcome?: string;
  reloaded: boolean;
  direct: boolean;
}

function printResult(file: string, r: ResultView, io: CliIo): number {
  if (r.outcome === 'in_use') {
    io.err(`${file} removes regions that devices hang in. Nothing was imported:`);
    for (const d of r.devicesInRemovedRegions ?? []) io.err(`  device ${d.id} in ${d.gridCode}`);
    io.err('Move these devices first, or re-run with --accept detach to unhook them (their grid becomes empty).');
    return EXIT.REFUSED;
  }
  const c = r.counts;
  io.err(
    `${r.dryRun ? 'dry run, nothing written: would import' : 'imported'} ${c.total} regions (${c.added} new, ${c.updated} updated, ${c.removed} removed)`,
  );
  if (r.removedCodes.length) io.err(`  removed: ${r.removedCodes.join(', ')}`);
  if (r.devicesDetached.length) io.err(`  devices detached from removed regions: ${r.devicesDetached.join(', ')}`);
  if (r.workersOutsideTree.length) {
    io.err(`  ${r.workersOutsideTree.length} worker(s) answer for grids that are not in the tree; reassign them (PUT /api/workers):`);
    for (const w of r.workersOutsideTree) io.err(`    ${w.id} ${w.name}: ${w.missingGridCodes.join(', ')}`);
  }
  const orphans = r.openIncidentsInRemovedGrids ?? [];
  if (orphans.length) {
    io.err(`  ${orphans.length} open incident(s) are owned by grids this import removed; give them an owner again:`);
    io.err(`    ${orphans.map((i) => `${i.id} (${i.gridCode})`).join(', ')}`);
  }
  if (!r.dryRun && r.direct) io.err('  a hub already running keeps its old grids until restarted (import with --hub to reload at once)');
  if (!r.dryRun && !r.direct) io.err(r.reloaded ? '  the hub reloaded its grids' : '  the hub did not confirm a reload: check its log');
  return EXIT.OK;
}

async function hubRequest(hub: HubTarget, path: string, init: RequestInit): Promise<Response> {
  const headers = new Headers(init.headers);
  if (hub.token) headers.set('authorization', `Bearer ${hub.token}`);
  let res: Response;
  try {
    res = await fetch(new URL(path, hub.url), { ...init, headers });
  } catch (err) {
    throw new CliFailure(EXIT.UNAVAILABLE, `cannot reach the hub at ${hub.url}: ${(err as Error).cause ?? (err as Error).message}`);
  }
  if (res.status === 401 || res.status === 403) {
    throw new CliFailure(
      EXIT.UNAVAILABLE,
      `the hub at ${hub.url} refused access (${res.status}): log in as an operator (POST /api/auth/login with "bearer": true) and pass the token with --token or HUB_TOKEN`,
    );
  }
  return res;
}

async function importThroughHub(
  file: string,
  input: unknown,
  accept: Set<AcceptFlag>,
  dryRun: boolean,
  hub: HubTarget,
  io: CliIo,
): Promise<number> {
  const q = new URLSearchParams();
  if (accept.size) q.set('accept', [...accept].join(','));
  if (dryRun) q.set('dryRun', 'true');
  io.err(`sending ${file} to ${hub.url} …`);
  const res = await hubRequest(hub, `/api/regions${q.size ? `?${q}` : ''}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/geo+json' },
    body: JSON.stringify(input),
  });
  const body = (await res.json().catch(() => ({}))) as Record<string, unknown> & { error?: { code: string; message: string } };
  if (res.ok) return printResult(file, { ...(body as unknown as ResultView), direct: false }, io);
  if (res.status === 422 || res.status === 409) {
    io.err(`the hub refused ${file}: ${body.error?.message ?? res.status}`);
    for (const p of (body.problems as Problem[] | undefined) ?? []) io.err(problemLine(p));
    for (const i of (body.issues as string[] | undefined) ?? []) io.err(`  ${i}`);
    for (const d of (body.devices as Array<{ id: string; gridCode: string }> | undefined) ?? [])
      io.err(`  device ${d.id} in ${d.gridCode}`);
    const needs = body.needs as string[] | undefined;
    if (needs?.length) io.err(`Fix them, or accept them knowingly: --accept ${[...new Set([...accept, ...needs])].join(',')}`);
    if (res.status === 409) io.err('Move these devices first, or re-run with --accept detach.');
    return EXIT.REFUSED;
  }
  throw new CliFailure(EXIT.UNAVAILABLE, `the hub answered ${res.status}: ${body.error?.message ?? res.statusText}`);
}

async function exportRegions(
  filter: { level?: RegionLevel; root?: string },
  out: string | undefined,
  hub: HubTarget | undefined,
  io: CliIo,
): Promise<number> {
  let fc: { features: unknown[] } | null;
  if (hub) {
    const q = new URLSearchParams(Object.entries(filter).filter((e): e is [string, string] => e[1] !== undefined));
    const res = await hubRequest(hub, `/api/regions${q.size ? `?${q}` : ''}`, {});
    if (res.status === 404) fc = null;
    else if (!res.ok) throw new CliFailure(EXIT.UNAVAILABLE, `the hub answered ${res.status} to GET /api/regions`);
    else fc = (await res.json()) as { features: unknown[] };
  } else {
    fc = await withDatabase(io, (db) => readRegions(db.pool, filter));
  }
  if (!fc) throw new CliFailure(EXIT.REFUSED, `no region ${filter.root}: see the codes with npm run regions -- export --level street`);
  // One feature per line: large files stay diffable in git.
  const text = `{"type":"FeatureCollection","features":[\n${fc.features.map((f) => JSON.stringify(f)).join(',\n')}\n]}\n`;
  if (out) {
    await writeFile(out, text);
    io.err(`wrote ${fc.features.length} regions to ${out}`);
  } else {
    io.out(text);
  }
  if (fc.features.length === 0) io.err('the tree is empty: import one with npm run regions -- import <file.geojson>');
  return EXIT.OK;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const code = await runRegionsCli(process.argv.slice(2), {
    env: process.env,
    out: (text) => process.stdout.write(text),
    err: (line) => process.stderr.write(`${line}\n`),
  });
  process.exitCode = code;
}
