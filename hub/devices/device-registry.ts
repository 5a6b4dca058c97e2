// The device registry (issue 15 §1): list, read, create, change, delete devices and rotate their
// secrets, each change audited (who, when, what; never the secret) in the same transaction, then
// announced (`onChanged`) so the hub reloads its directory and the broker closes a connection that
// may no longer be there. Reads and writes are cut to the caller's scope by the rule of the live
// screens (hub/auth/region-scope.ts). The HTTP routes and the CLI both go through here.
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { withTransaction } from '../../storage/database-transaction.js';
import type { Logger } from '../../common/logger.js';
import type { Metrics } from '../../common/metrics.js';
import { hmacDeviceSecret, isScryptHash, newSecret, type DeviceSecretKey } from '../../common/secrets.js';
import {
  protocolIdProblem,
  type DeviceChange,
  type DeviceCreate,
  type DeviceListQuery,
  type DevicePatch,
  type DeviceView,
} from '../../protocol/device-api.js';
import type { WorkerLive } from '../../protocol/socket-events.js';
import type { Rows } from '../rows/row-types.js';
import { ALL_SCOPE } from '../auth/region-scope.js';
import { DeviceActivity } from './device-activity.js';
import { AppError } from '../../common/error-codes.js';
import {
  deleteDevice,
  diffFields,
  fieldsOfRow,
  insertAudit,
  insertDevices,
  missingReferences,
  selectAudit,
  selectDevice,
  selectDevices,
  takenIdentities,
  updateDevice,
  type AuditRecord,
  type DeviceFields,
  type DeviceRow,
} from './device-rows.js';

/** Who acts: a user id (or 'cli:<name>', 'anonymous' with auth off), their role, their scope. */
export interface Actor {
  id: string;
  role: string | null;
  scope: string;
}

export interface ScopeRule {
  covers(scope: string, gridCode: string | null): boolean;
}

export interface DeviceRegistryDeps {
  pool: pg.Pool;
  key: DeviceSecretKey;
  metrics: Metrics;
  logger: Logger;
  /** The screens' scope rule; absent: every caller sees everything (tools, tests). */
  scopes?: ScopeRule;
  /** Live positions and presence of handsets (the hub's LiveState). */
  live?: { byDevice(deviceId: string): WorkerLive | undefined };
  /** After a committed change: the hub reloads, the broker closes what must go. */
  onChanged?: (deviceId: string, change: DeviceChange) => void | Promise<void>;
}

export class DeviceRegistry {
  readonly activity: DeviceActivity;
  private readonly log: Logger;

  constructor(private readonly deps: DeviceRegistryDeps) {
    this.log = deps.logger.child({ mod: 'devices' });
    this.activity = new DeviceActivity(deps.pool, this.log);
  }

  get key(): DeviceSecretKey {
    return this.deps.key;
  }

  async start(): Promise<void> {
    await this.activity.load();
    this.activity.start();
  }

  stop(): Promise<void> {
    return this.activity.stop();
  }

  /** A commit of the hub: presence, last seen, last fix. */
  observe(rows: Rows, committedAt: number): void {
    this.activity.observe(rows, committedAt);
  }

  /** Whether a device counts under `scope`: its grid, else any of its worker's grids, else the root. */
  inScope(row: Pick<DeviceRow, 'gridCode' | 'workerGrids'>, scope: string): boolean {
    const rule = this.deps.scopes;
    if (scope === ALL_SCOPE || !rule) return true;
    if (row.gridCode !== null) return rule.covers(scope, row.gridCode);
    if (row.workerGrids.length > 0) return row.workerGrids.some((g) => rule.covers(scope, g));
    return rule.covers(scope, null);
  }

  async list(q: DeviceListQuery, scope: string): Promise<{ total: number; items: DeviceView[] }> {
    const rows = await selectDevices(this.deps.pool, { kind: q.kind, protocol: q.protocol, enabled: q.enabled, q: q.q });
    const rule = this.deps.scopes;
    const views = rows
      .filter((r) => this.inScope(r, scope))
      // The grid filter takes any region: a street shows the devices of all its grids.
      .filter((r) => q.grid === undefined || (rule ? this.inScope(r, q.grid) : r.gridCode === q.grid || r.workerGrids.includes(q.grid)))
      .map((r) => this.view(r))
      .filter((v) => q.online === undefined || v.online === q.online);
    return { total: views.length, items: views.slice(q.offset, q.offset + q.limit) };
  }

  /** The device and its audit, or null when it does not exist or lies outside the scope. */
  async get(id: string, scope: string): Promise<{ device: DeviceView; audit: Awaited<ReturnType<typeof selectAudit>> } | null> {
    const row = await selectDevice(this.deps.pool, id);
    if (!row || !this.inScope(row, scope)) return null;
    return { device: this.view(row), audit: await selectAudit(this.deps.pool, id) };
  }

  async create(input: DeviceCreate, actor: Actor): Promise<{ device: DeviceView; secret: string }> {
    const id = input.id ?? newDeviceId(input.kind);
    const fields = fieldsOf(input);
    await this.checkReferences(fields, actor);
    const taken = await takenIdentities(
      this.deps.pool,
      [id],
      fields.protocolId ? [{ protocol: fields.protocol, protocolId: fields.protocolId }] : [],
    );
    if (taken.ids.has(id)) throw new AppError('DEVICE_EXISTS', { id });
    if (taken.protocolIds.size > 0)
      throw new AppError('DEVICE_PROTOCOL_ID_TAKEN', { protocolId: fields.protocolId, heldBy: [...taken.protocolIds.values()][0] });
    const secret = newSecret();
    await this.transaction(async (db) => {
      await insertDevices(db, [{ id, ...fields, secretHash: hmacDeviceSecret(this.deps.key, id, secret) }]);
      await insertAudit(db, [audit(id, actor, 'create', diffFields(null, fields))]);
    });
    this.deps.metrics.inc('devices_changed_total', { action: 'create' });
    this.log.info({ deviceId: id, kind: fields.kind, protocol: fields.protocol, actor: actor.id }, 'device created');
    // The broker may hold a "no such device" answer from an earlier attempt: it reloads the id.
    await this.announce(id, 'updated');
    return { device: await this.mustView(id), secret };
  }

  async update(id: string, patch: DevicePatch, actor: Actor): Promise<DeviceView> {
    const before = await this.writable(id, actor);
    const after: DeviceFields = { ...fieldsOfRow(before), ...definedOnly(patch) };
    const problem = protocolIdProblem(after.protocol, after.protocolId, after.kind);
    if (problem) throw new AppError('DEVICE_INVALID', { issues: [`protocolId: ${problem}`] });
    await this.checkReferences(after, actor);
    const changes = diffFields(fieldsOfRow(before), after);
    if (Object.keys(changes).length === 0) return this.view(before);
    if ('protocolId' in changes && after.protocolId) {
      const taken = await takenIdentities(this.deps.pool, [], [{ protocol: after.protocol, protocolId: after.protocolId }]);
      const holder = [...taken.protocolIds.values()][0];
      if (holder !== undefined && holder !== id)
        throw new AppError('DEVICE_PROTOCOL_ID_TAKEN', { protocolId: after.protocolId, heldBy: holder });
    }
    const only = Object.keys(changes);
    const action = only.length === 1 && only[0] === 'enabled' ? (after.enabled ? 'enable' : 'disable') : 'update';
    await this.transaction(async (db) => {
      const changed: Partial<DeviceFields> = Object.fromEntries(only.map((f) => [f, after[f as keyof DeviceFields]]));
      if (!(await updateDevice(db, id, changed))) throw new AppError('DEVICE_NOT_FOUND', { id });
      await insertAudit(db, [audit(id, actor, action, changes)]);
    });
    this.deps.metrics.inc('devices_changed_total', { action });
    this.log.info({ deviceId: id, action, fields: only, actor: actor.id }, 'device changed');
    await this.announce(id, before.enabled && !after.enabled ? 'disabled' : 'updated');
    return this.mustView(id);
  }

  async remove(id: string, actor: Actor): Promise<void> {
    const before = await this.writable(id, actor);
    await this.transaction(async (db) => {
      if (!(await deleteDevice(db, id))) throw new AppError('DEVICE_NOT_FOUND', { id });
      await insertAudit(db, [audit(id, actor, 'delete', diffFields(fieldsOfRow(before), null))]);
    });
    this.activity.forget(id);
    this.deps.metrics.inc('devices_changed_total', { action: 'delete' });
    this.log.info({ deviceId: id, actor: actor.id }, 'device deleted');
    await this.announce(id, 'deleted');
  }

  /** A new secret, returned this once; the old one stops working at once (its connection closes). */
  async rotate(id: string, actor: Actor): Promise<{ device: DeviceView; secret: string }> {
    await this.writable(id, actor);
    const secret = newSecret();
    await this.transaction(async (db) => {
      if (!(await updateDevice(db, id, {}, hmacDeviceSecret(this.deps.key, id, secret)))) throw new AppError('DEVICE_NOT_FOUND', { id });
      await insertAudit(db, [audit(id, actor, 'rotate_secret', {})]);
    });
    this.deps.metrics.inc('devices_changed_total', { action: 'rotate_secret' });
    this.log.info({ deviceId: id, actor: actor.id }, 'device secret rotated');
    await this.announce(id, 'secret');
    return { device: await this.mustView(id), secret };
  }

  /** Runs `work` in one transaction on one connection of the pool. */
  async transaction<T>(work: (db: pg.PoolClient) => Promise<T>): Promise<T> {
    try {
      return await withTransaction(this.deps.pool, (client) => work(client));
    } catch (err) {
      throw translate(err);
    }
  }

  view(r: DeviceRow): DeviceView {
    const life = this.activity.get(r.id);
    const live = r.kind === 'handset' ? this.deps.live?.byDevice(r.id) : undefined;
    const liveFix =
      live && live.lat !== null && live.lon !== null && live.ts !== null ? { lat: live.lat, lon: live.lon, ts: live.ts } : null;
    const fix = life.lastFix && (!liveFix || life.lastFix.ts >= liveFix.ts) ? life.lastFix : liveFix;
    const seen = Math.max(life.seenAt ?? 0, r.lastSeen?.getTime() ?? 0);
    return {
      id: r.id,
      kind: r.kind,
      protocol: r.protocol,
      protocolId: r.protocolId,
      name: r.name,
      enabled: r.enabled,
      workerId: r.workerId,
      workerName: r.workerName,
      gridCode: r.gridCode,
      areaCode: r.gridCode ?? r.workerGrids[0] ?? null,
      lat: r.lat,
      lon: r.lon,
      model: r.model,
      firmware: r.firmware,
      createdAt: r.createdAt.toISOString(),
      updatedAt: r.updatedAt.toISOString(),
      lastSeen: seen > 0 ? new Date(seen).toISOString() : null,
      online: r.enabled && (life.online ?? live?.online ?? false),
      lastFix: fix ? { lat: fix.lat, lon: fix.lon, ts: new Date(fix.ts).toISOString() } : null,
      secretForm: isScryptHash(r.secretHash) ? 'scrypt' : 'hmac',
      secretChangedAt: r.secretChangedAt?.toISOString() ?? null,
    };
  }

  /** The row, if the actor may change it: it exists, and lies in their scope (else 404, not 403:
   *  a device outside one's area is not confirmed to exist). */
  private async writable(id: string, actor: Actor): Promise<DeviceRow> {
    const row = await selectDevice(this.deps.pool, id);
    if (!row || !this.inScope(row, actor.scope)) throw new AppError('DEVICE_NOT_FOUND', { id });
    return row;
  }

  /** Worker and grid exist, and the device would lie in the actor's scope. */
  private async checkReferences(f: DeviceFields, actor: Actor): Promise<void> {
    const missing = await missingReferences(this.deps.pool, f.workerId ? [f.workerId] : [], f.gridCode ? [f.gridCode] : []);
    if (missing.workers.size) throw new AppError('DEVICE_UNKNOWN_WORKER', { workerId: f.workerId });
    if (missing.grids.size) throw new AppError('DEVICE_UNKNOWN_GRID', { gridCode: f.gridCode });
    const workerGrids = f.workerId
      ? ((await this.deps.pool.query<{ grid_codes: string[] }>('SELECT grid_codes FROM workers WHERE id = $1', [f.workerId])).rows[0]
          ?.grid_codes ?? [])
      : [];
    if (!this.inScope({ gridCode: f.gridCode, workerGrids }, actor.scope)) throw new AppError('DEVICE_OUT_OF_SCOPE', {});
  }

  private async mustView(id: string): Promise<DeviceView> {
    const row = await selectDevice(this.deps.pool, id);
    if (!row) throw new AppError('DEVICE_NOT_FOUND', { id });
    return this.view(row);
  }

  private async announce(id: string, change: DeviceChange): Promise<void> {
    try {
      await this.deps.onChanged?.(id, change);
    } catch (err) {
      // Committed already: the broker's cache expires within a minute even if this failed.
      this.log.error({ deviceId: id, change, err: (err as Error).message }, 'announcing a device change failed');
    }
  }
}

export function fieldsOf(input: DeviceCreate): DeviceFields {
  return {
    kind: input.kind,
    protocol: input.protocol,
    protocolId: input.protocolId ?? null,
    name: input.name ?? null,
    enabled: input.enabled ?? true,
    workerId: input.workerId ?? null,
    gridCode: input.gridCode ?? null,
    lat: input.lat ?? null,
    lon: input.lon ?? null,
    model: input.model ?? null,
    firmware: input.firmware ?? null,
  };
}

/** An id for a device created without one: its kind and 40 random bits (`door-3fa2b1c4d5`). */
export function newDeviceId(kind: string): string {
  return `${kind}-${randomBytes(5).toString('hex')}`;
}

function definedOnly(p: DevicePatch): Partial<DeviceFields> {
  return Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)) as Partial<DeviceFields>;
}

export function audit(deviceId: string, actor: Actor, action: AuditRecord['action'], changes: AuditRecord['changes']): AuditRecord {
  return { deviceId, actor: actor.id, actorRole: actor.role, action, changes };
}

/** Unique and foreign-key violations that slipped past the checks (a race) become clear refusals. */
function translate(err: unknown): unknown {
  const e = err as { code?: string; constraint?: string };
  if (e.code === '23505')
    return e.constraint === 'devices_protocol_id_idx' ? new AppError('DEVICE_PROTOCOL_ID_TAKEN') : new AppError('DEVICE_EXISTS');
  if (e.code === '23503') return new AppError('DEVICE_INVALID', { issues: ['workerId or gridCode does not exist'] });
  return err;
}
