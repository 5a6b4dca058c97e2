// `npm run devices -- add|list|rotate|disable|enable|import FILE.csv|export` (issue 15 §1): the
// device registry from a terminal, straight against the database the hub uses (DATABASE_URL, else
// the embedded one in DATA_DIR/pg) with the hub's own logic (hub/devices/), so a device added here is
// one the hub and broker accept. Secrets are made with the server key (DEVICE_SECRET_KEY or
// DATA_DIR/device-secret.key) and shown once.
import { readFile, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { loadConfig, type Config } from '../common/config.js';
import { Metrics } from '../common/metrics.js';
import { loadDeviceSecretKey } from '../common/secrets.js';
import { openDatabase, type Database } from '../storage/database.js';
import { deviceCreateSchema, deviceListQuerySchema, DEVICE_PROTOCOLS } from '../protocol/device-api.js';
import { DEVICE_KINDS } from '../protocol/topics.js';
import { ALL_SCOPE } from '../hub/auth/region-scope.js';
import { DeviceRegistry, type Actor } from '../hub/devices/device-registry.js';
import { AppError, DEVICE_ERRORS } from '../common/error-codes.js';
import { EXPORT_COLUMNS, csvField, parseDeviceCsv } from '../hub/devices/device-csv.js';
import { applyImport, planImport } from '../hub/devices/device-import.js';
import { CliFailure, EXIT, runGuarded, type CliIo } from './cli-common.js';

export { EXIT, type CliIo } from './cli-common.js';

const USAGE = `usage:
  npm run devices -- add --kind ${DEVICE_KINDS.join('|')} [--id ID] [--protocol ${DEVICE_PROTOCOLS.join('|')}] [--protocol-id X]
                      [--name N] [--worker W] [--grid G] [--lat L --lon L] [--model M] [--firmware F]
  npm run devices -- list [--kind K] [--protocol P] [--grid CODE] [--enabled true|false]
  npm run devices -- rotate ID          (a new secret, shown once; the old one stops working)
  npm run devices -- disable ID | enable ID
  npm run devices -- import FILE.csv [--dry-run] [--update] [--secrets-out FILE]
  npm run devices -- export [--out FILE.csv]
CSV: UTF-8 (a BOM is fine), a header row; columns id, kind, protocol, protocol_id, name, worker_id,
grid_code, lat, lon, model, firmware, enabled, secret (kind required; an empty id or secret is made).
exit codes: 0 done, 1 refused (rows and reasons listed), 2 bad command or file, 3 database unavailable`;

export async function runDevicesCli(argv: readonly string[], io: CliIo): Promise<number> {
  // The registry's own refusals (a bad kind, an unknown worker, …) are the user's to fix too.
  return runGuarded(
    io,
    () => run(argv, io),
    (err) => {
      if (!(err instanceof AppError && err.code in DEVICE_ERRORS)) return null;
      io.err(`${err.message}${Object.keys(err.details).length ? ` ${JSON.stringify(err.details)}` : ''}`);
      return EXIT.REFUSED;
    },
  );
}

const OPTIONS = {
  kind: { type: 'string' },
  id: { type: 'string' },
  protocol: { type: 'string' },
  'protocol-id': { type: 'string' },
  name: { type: 'string' },
  worker: { type: 'string' },
  grid: { type: 'string' },
  lat: { type: 'string' },
  lon: { type: 'string' },
  model: { type: 'string' },
  firmware: { type: 'string' },
  enabled: { type: 'string' },
  'dry-run': { type: 'boolean' },
  update: { type: 'boolean' },
  'secrets-out': { type: 'string' },
  out: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

async function run(argv: readonly string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], allowPositionals: true, options: OPTIONS });
  } catch (err) {
    throw new CliFailure(EXIT.USAGE, `${(err as Error).message}\n${USAGE}`);
  }
  const { values: v, positionals } = parsed;
  const [command, arg, ...extra] = positionals;
  if (v.help) {
    io.err(USAGE);
    return EXIT.OK;
  }
  const needsArg = ['rotate', 'disable', 'enable', 'import'].includes(command ?? '');
  if (
    !command ||
    !['add', 'list', 'rotate', 'disable', 'enable', 'import', 'export'].includes(command) ||
    needsArg !== (arg !== undefined) ||
    extra.length
  ) {
    throw new CliFailure(EXIT.USAGE, USAGE);
  }
  const actor: Actor = { id: `cli:${safeUser()}`, role: 'admin', scope: ALL_SCOPE };

  if (command === 'add') {
    const input = deviceCreateSchema.safeParse(
      dropUndefined({
        id: v.id,
        kind: v.kind,
        protocol: v.protocol,
        protocolId: v['protocol-id'],
        name: v.name,
        workerId: v.worker,
        gridCode: v.grid,
        lat: v.lat === undefined ? undefined : Number(v.lat),
        lon: v.lon === undefined ? undefined : Number(v.lon),
        model: v.model,
        firmware: v.firmware,
      }),
    );
    if (!input.success)
      throw new CliFailure(EXIT.USAGE, input.error.issues.map((i) => `${i.path.join('.') || 'device'}: ${i.message}`).join('\n'));
    return withRegistry(io, async (registry) => {
      const { device, secret } = await registry.create(input.data, actor);
      io.err(`device ${device.id} (${device.kind}, ${device.protocol}) added; its secret, shown this once:`);
      io.out(`${device.id},${secret}\n`);
      io.err(runningHubNote);
      return EXIT.OK;
    });
  }
  if (command === 'list') {
    const q = deviceListQuerySchema.safeParse(dropUndefined({ kind: v.kind, protocol: v.protocol, grid: v.grid, enabled: v.enabled }));
    if (!q.success) throw new CliFailure(EXIT.USAGE, q.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('\n'));
    return withRegistry(io, async (registry) => {
      const { items, total } = await registry.list({ ...q.data, limit: 20_000 }, ALL_SCOPE);
      const line = (cells: string[]) =>
        cells
          .map((c, i) => c.padEnd([24, 8, 10, 8, 14, 24][i] ?? 0))
          .join(' ')
          .trimEnd();
      io.out(`${line(['id', 'kind', 'protocol', 'enabled', 'grid/worker', 'last seen'])}\n`);
      for (const d of items) {
        io.out(`${line([d.id, d.kind, d.protocol, d.enabled ? 'yes' : 'NO', d.gridCode ?? d.workerId ?? '—', d.lastSeen ?? 'never'])}\n`);
      }
      io.err(`${total} device(s)`);
      return EXIT.OK;
    });
  }
  if (command === 'rotate') {
    return withRegistry(io, async (registry) => {
      const { device, secret } = await registry.rotate(arg!, actor);
      io.err(`device ${device.id}: new secret, shown this once (the old one no longer works):`);
      io.out(`${device.id},${secret}\n`);
      io.err(runningHubNote);
      return EXIT.OK;
    });
  }
  if (command === 'disable' || command === 'enable') {
    return withRegistry(io, async (registry) => {
      const d = await registry.update(arg!, { enabled: command === 'enable' }, actor);
      io.err(`device ${d.id} ${d.enabled ? 'enabled' : 'disabled'}`);
      io.err(runningHubNote);
      return EXIT.OK;
    });
  }
  if (command === 'export') {
    return withRegistry(io, async (registry) => {
      const { items } = await registry.list({ limit: 20_000, offset: 0 }, ALL_SCOPE);
      const lines = [EXPORT_COLUMNS.join(',')];
      for (const d of items) {
        lines.push(
          [
            csvField(d.id),
            csvField(d.kind),
            csvField(d.protocol),
            csvField(d.protocolId),
            csvField(d.name, true),
            csvField(d.workerId),
            csvField(d.gridCode),
            csvField(d.lat),
            csvField(d.lon),
            csvField(d.model, true),
            csvField(d.firmware, true),
            csvField(d.enabled),
            csvField(d.createdAt),
            csvField(d.lastSeen),
          ].join(','),
        );
      }
      const text = `${lines.join('\r\n')}\r\n`;
      if (v.out) {
        // With a BOM: Excel on a Chinese Windows opens UTF-8 names correctly only then.
        await writeFile(v.out, `\uFEFF${text}`);
        io.err(`wrote ${items.length} devices to ${v.out}`);
      } else io.out(text);
      return EXIT.OK;
    });
  }
  return importFile(arg!, { dryRun: v['dry-run'] ?? false, update: v.update ?? false, secretsOut: v['secrets-out'] }, actor, io);
}

const runningHubNote =
  'A hub running on this database applies the change to connected devices within a minute (at once when made on the Devices page or /api/devices).';

async function importFile(
  file: string,
  opts: { dryRun: boolean; update: boolean; secretsOut: string | undefined },
  actor: Actor,
  io: CliIo,
): Promise<number> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new CliFailure(EXIT.USAGE, `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const csv = parseDeviceCsv(text);
  if (csv.problems.length) {
    io.err(`${file} was not imported:`);
    for (const p of csv.problems) io.err(`  ${p}`);
    return EXIT.REFUSED;
  }
  io.err(`${file}: ${csv.rows.length} rows; checking …`);
  const secretsOut = opts.secretsOut ?? file.replace(/(\.csv)?$/i, '.secrets.csv');
  return withRegistry(io, async (registry, db) => {
    const t0 = Date.now();
    const plan = await planImport(db.pool, csv.rows, { update: opts.update });
    if (plan.problems.length) {
      const lines = new Set(plan.problems.map((p) => p.line));
      io.err(`${file}: ${lines.size} bad row(s); nothing was imported:`);
      for (const p of plan.problems) io.err(`  line ${p.line}${p.id ? ` (${p.id})` : ''}: ${p.reason}`);
      return EXIT.REFUSED;
    }
    const summary = `${plan.create.length} new, ${plan.update.length} changed, ${plan.unchanged} unchanged`;
    if (opts.dryRun) {
      io.err(`dry run, nothing written: the file is good (${summary})`);
      return EXIT.OK;
    }
    const made = plan.create.filter((c) => c.generated).length;
    if (made > 0) {
      // Before writing anything: the secrets must have a place to go, or the devices are unusable.
      try {
        await writeFile(secretsOut, '', { flag: 'wx', mode: 0o600 });
      } catch (err) {
        throw new CliFailure(
          EXIT.USAGE,
          `cannot create ${secretsOut} for the new secrets (${(err as NodeJS.ErrnoException).code}); choose another with --secrets-out. Nothing was imported.`,
        );
      }
    }
    const result = await applyImport(db.pool, registry.key, plan, actor, (done, total) => io.err(`  written ${done}/${total}`));
    if (made > 0) {
      await writeFile(secretsOut, `id,secret\r\n${result.secrets.map((s) => `${s.id},${s.secret}`).join('\r\n')}\r\n`, { mode: 0o600 });
      io.err(`the ${made} new secret(s) are in ${secretsOut} (owner-only): configure the devices with them, then delete the file`);
    }
    io.err(`imported ${file}: ${summary} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    io.err(runningHubNote);
    return EXIT.OK;
  });
}

function dropUndefined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, x]) => x !== undefined));
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

async function withRegistry<T>(io: CliIo, work: (registry: DeviceRegistry, db: Database) => Promise<T>): Promise<T> {
  let config: Config;
  try {
    config = loadConfig(io.env);
  } catch (err) {
    throw new CliFailure(EXIT.USAGE, (err as Error).message);
  }
  const where = config.DATABASE_URL ? 'DATABASE_URL' : `the embedded database in ${config.DATA_DIR}/pg`;
  if (!config.DATABASE_URL) {
    // The embedded engine is one process's: a hub answering on its address most likely holds it.
    const hub = `http://${config.HOST}:${config.HTTP_PORT}`;
    const up =
      config.HTTP_PORT !== 0 &&
      (await fetch(`${hub}/health`, { signal: AbortSignal.timeout(700) }).then(
        (r) => r.ok,
        () => false,
      ));
    if (up)
      throw new CliFailure(
        EXIT.UNAVAILABLE,
        `A hub is running at ${hub} and owns ${config.DATA_DIR}/pg. Stop it, or use its Devices page or ${hub}/api/devices.`,
      );
  }
  io.err(`opening ${where} …`);
  const logger = pino({ level: io.env.LOG_LEVEL ?? 'warn' }, pino.destination(2));
  let db: Database;
  try {
    db = await openDatabase(config, logger);
  } catch (err) {
    throw new CliFailure(EXIT.UNAVAILABLE, `cannot open ${where}: ${(err as Error).message}\nCheck DATABASE_URL (or DATA_DIR).`);
  }
  try {
    // The key of the hub on this database: DEVICE_SECRET_KEY, or the file next to the embedded data.
    const registry = new DeviceRegistry({ pool: db.pool, key: loadDeviceSecretKey(config), metrics: new Metrics(), logger });
    return await work(registry, db);
  } finally {
    await db.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const code = await runDevicesCli(process.argv.slice(2), {
    env: process.env,
    out: (text) => process.stdout.write(text),
    err: (line) => process.stderr.write(`${line}\n`),
  });
  process.exitCode = code;
}
