// Importing a fleet from CSV (issue 15 §1): every row is checked first (the API's schema, ids and
// terminal numbers unique in the file and against the registry, workers and grids that exist);
// any bad row refuses the whole file, each listed with its line and reason. Then one transaction
// writes the devices and their audit in chunks (3,400 handsets: a few statements, well under a
// second of database time), reporting progress.
import type pg from 'pg';
import { withTransaction } from '../../storage/database-transaction.js';
import { hmacDeviceSecret, newSecret, type DeviceSecretKey } from '../../common/secrets.js';
import { deviceCreateSchema, type DeviceCreate } from '../../protocol/device-api.js';
import type { CsvRow } from './device-csv.js';
import { audit, fieldsOf, newDeviceId, type Actor } from './device-registry.js';
import {
  diffFields,
  fieldsOfRow,
  insertAudit,
  insertDevices,
  missingReferences,
  selectDevices,
  takenIdentities,
  updateDevice,
  type DeviceFields,
  type NewDeviceRow,
} from './device-rows.js';

export interface RowProblem {
  line: number;
  id: string | null;
  reason: string;
}

export interface ImportPlan {
  create: { line: number; id: string; fields: DeviceFields; secret: string; generated: boolean }[];
  update: { line: number; id: string; fields: DeviceFields; changes: Record<string, [unknown, unknown]>; secret: string | null }[];
  unchanged: number;
  problems: RowProblem[];
}

/** A secret brought along in the file (devices already configured) must look like a token. */
const MIN_IMPORTED_SECRET = 22;

/** CSV column → registry field, for an update that sets only the columns the file has. */
const FIELD_OF: Partial<Record<keyof CsvRow['values'], keyof DeviceFields>> = {
  kind: 'kind',
  protocol: 'protocol',
  protocol_id: 'protocolId',
  name: 'name',
  worker_id: 'workerId',
  grid_code: 'gridCode',
  lat: 'lat',
  lon: 'lon',
  model: 'model',
  firmware: 'firmware',
  enabled: 'enabled',
};

const BOOL: Record<string, boolean> = { true: true, false: false, '1': true, '0': false, yes: true, no: false, 是: true, 否: false };

function toInput(values: CsvRow['values']): { input: Record<string, unknown>; problems: string[] } {
  const problems: string[] = [];
  const input: Record<string, unknown> = {};
  const text = (col: keyof CsvRow['values'], key: string) => {
    const v = values[col];
    if (v !== undefined && v !== '') input[key] = v;
  };
  text('id', 'id');
  text('kind', 'kind');
  text('protocol', 'protocol');
  text('protocol_id', 'protocolId');
  text('name', 'name');
  text('worker_id', 'workerId');
  text('grid_code', 'gridCode');
  text('model', 'model');
  text('firmware', 'firmware');
  for (const col of ['lat', 'lon'] as const) {
    const v = values[col];
    if (v === undefined || v === '') continue;
    const n = Number(v);
    if (Number.isFinite(n)) input[col] = n;
    else problems.push(`${col}: "${v}" is not a number`);
  }
  const en = values.enabled;
  if (en !== undefined && en !== '') {
    const b = BOOL[en.toLowerCase()];
    if (b === undefined) problems.push(`enabled: "${en}" is not true/false`);
    else input.enabled = b;
  }
  return { input, problems };
}

/** Checks every row; nothing is written. `update`: rows whose id exists change that device. */
export async function planImport(db: Pick<pg.Pool, 'query'>, rows: CsvRow[], opts: { update: boolean }): Promise<ImportPlan> {
  const problems: RowProblem[] = [];
  const parsed: { line: number; data: DeviceCreate; secret: string | null; columns: (keyof DeviceFields)[] }[] = [];
  for (const row of rows) {
    const { input, problems: own } = toInput(row.values);
    const id = typeof input.id === 'string' ? input.id : null;
    const r = deviceCreateSchema.safeParse(input);
    const reasons = [...own, ...(r.success ? [] : r.error.issues.map((i) => `${i.path.join('.') || 'row'}: ${i.message}`))];
    const secret = row.values.secret || null;
    if (secret !== null && (secret.length < MIN_IMPORTED_SECRET || secret.length > 128 || /\s/.test(secret))) {
      reasons.push(`secret: at least ${MIN_IMPORTED_SECRET} characters, no spaces (a random token; leave it empty to have one made)`);
    }
    if (reasons.length || !r.success) problems.push(...reasons.map((reason) => ({ line: row.line, id, reason })));
    else {
      const columns = Object.keys(row.values).flatMap((c) => FIELD_OF[c as keyof CsvRow['values']] ?? []);
      parsed.push({ line: row.line, data: r.data, secret, columns });
    }
  }
  // Within the file: one row per id and per terminal number.
  const seenId = new Map<string, number>();
  const seenProto = new Map<string, number>();
  for (const p of parsed) {
    if (p.data.id !== undefined) {
      const first = seenId.get(p.data.id);
      if (first !== undefined) problems.push({ line: p.line, id: p.data.id, reason: `id also on line ${first}` });
      else seenId.set(p.data.id, p.line);
    }
    if (p.data.protocolId) {
      const k = `${p.data.protocol}:${p.data.protocolId}`;
      const first = seenProto.get(k);
      if (first !== undefined)
        problems.push({ line: p.line, id: p.data.id ?? null, reason: `protocolId ${p.data.protocolId} also on line ${first}` });
      else seenProto.set(k, p.line);
    }
  }
  // Against the registry.
  const ids = parsed.flatMap((p) => (p.data.id ? [p.data.id] : []));
  const taken = await takenIdentities(
    db,
    ids,
    parsed.flatMap((p) => (p.data.protocolId ? [{ protocol: p.data.protocol, protocolId: p.data.protocolId }] : [])),
  );
  const missing = await missingReferences(
    db,
    [...new Set(parsed.flatMap((p) => (p.data.workerId ? [p.data.workerId] : [])))],
    [...new Set(parsed.flatMap((p) => (p.data.gridCode ? [p.data.gridCode] : [])))],
  );
  const existing = new Map(
    (opts.update && taken.ids.size ? await selectDevices(db) : []).filter((d) => taken.ids.has(d.id)).map((d) => [d.id, d]),
  );
  const plan: ImportPlan = { create: [], update: [], unchanged: 0, problems };
  for (const p of parsed) {
    const id = p.data.id ?? null;
    const bad = (reason: string) => problems.push({ line: p.line, id, reason });
    if (p.data.workerId && missing.workers.has(p.data.workerId)) bad(`worker_id: no worker ${p.data.workerId}`);
    if (p.data.gridCode && missing.grids.has(p.data.gridCode)) bad(`grid_code: no region ${p.data.gridCode}`);
    const holder = p.data.protocolId ? taken.protocolIds.get(`${p.data.protocol}:${p.data.protocolId}`) : undefined;
    if (holder !== undefined && holder !== id) bad(`protocol_id ${p.data.protocolId} belongs to device ${holder}`);
    if (id !== null && taken.ids.has(id) && !opts.update) bad('the device exists already (use --update to change existing devices)');
    const fields = fieldsOf(p.data);
    const current = id !== null ? existing.get(id) : undefined;
    if (current) {
      // Only the file's columns change: a file with no "model" column leaves every model as it is.
      const was = fieldsOfRow(current);
      const next: DeviceFields = { ...was, ...Object.fromEntries(p.columns.map((c) => [c, fields[c]])) };
      const changes = diffFields(was, next);
      if (Object.keys(changes).length === 0 && p.secret === null) plan.unchanged++;
      else plan.update.push({ line: p.line, id: current.id, fields: next, changes, secret: p.secret });
    } else if (id === null || !taken.ids.has(id)) {
      plan.create.push({
        line: p.line,
        id: id ?? newDeviceId(fields.kind),
        fields,
        secret: p.secret ?? newSecret(),
        generated: p.secret === null,
      });
    }
  }
  problems.sort((a, b) => a.line - b.line);
  return plan;
}

const CHUNK = 500;

/** Writes a plan without problems in one transaction; returns the secrets made for new devices. */
export async function applyImport(
  pool: pg.Pool,
  key: DeviceSecretKey,
  plan: ImportPlan,
  actor: Actor,
  progress: (done: number, total: number) => void = () => undefined,
): Promise<{ created: number; updated: number; secrets: { id: string; secret: string }[] }> {
  if (plan.problems.length) throw new Error('refusing to apply an import plan with problems');
  const total = plan.create.length + plan.update.length;
  await withTransaction(pool, async (client) => {
    for (let i = 0; i < plan.create.length; i += CHUNK) {
      const chunk = plan.create.slice(i, i + CHUNK);
      const rows: NewDeviceRow[] = chunk.map((c) => ({ id: c.id, ...c.fields, secretHash: hmacDeviceSecret(key, c.id, c.secret) }));
      await insertDevices(client, rows);
      await insertAudit(
        client,
        chunk.map((c) => audit(c.id, actor, 'import', diffFields(null, c.fields))),
      );
      progress(i + chunk.length, total);
    }
    for (let i = 0; i < plan.update.length; i++) {
      const u = plan.update[i]!;
      await updateDevice(client, u.id, u.fields, u.secret === null ? undefined : hmacDeviceSecret(key, u.id, u.secret));
      await insertAudit(client, [audit(u.id, actor, 'import', u.changes)]);
      if ((i + 1) % CHUNK === 0 || i === plan.update.length - 1) progress(plan.create.length + i + 1, total);
    }
  });
  return {
    created: plan.create.length,
    updated: plan.update.length,
    secrets: plan.create.filter((c) => c.generated).map((c) => ({ id: c.id, secret: c.secret })),
  };
}
