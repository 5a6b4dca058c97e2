// Who may connect: a registered, enabled device whose client id is its device id and whose
// password is its secret; or the hub's service account. Failures answer with the protocol's return
// codes (4 bad username or password, 5 not authorised), are counted and logged (rate-limited).
//
// Device secrets are random tokens checked by one HMAC-SHA-256 under the server key (issue 14,
// common/secrets.ts): microseconds on the event loop, so 10,000 handsets connect at network speed
// and a storm of wrong secrets costs next to nothing. A row still in the scrypt form is verified by
// scrypt once (capped, verify-limit.ts) and then rewritten in the HMAC form. Wrong secrets are
// answered later and later per address and id (FailureBackoff); right ones never wait.
import { timingSafeEqual } from 'node:crypto';
import { availableParallelism } from 'node:os';
import type { Client, AuthenticateError, ConnectPacket } from 'aedes';
import type pg from 'pg';
import type { Logger } from '../common/logger.js';
import type { Metrics } from '../common/metrics.js';
import { checkDeviceSecret, hmacDeviceSecret, storedKeyId, verifySecret, type DeviceSecretKey } from '../common/secrets.js';
import { findDevice, listDevices, migrateDeviceSecrets, type DeviceRecord } from '../storage/device-store.js';
import { DEVICE_ID_PATTERN, type DeviceKind } from '../protocol/topics.js';
import type { DeviceProtocol } from '../protocol/device-api.js';
import { ConcurrencyLimit, FailureBackoff, type BackoffPolicy } from './verify-limit.js';
import { LogBudget } from '../common/log-budget.js';

/** `protocol` picks the device's topic grammar in the ACL: native `grid/v1/devices/…`, or an
 *  OwnTracks phone's `owntracks/{id}/…` (gateways/owntracks, issue 15 §2). */
export type Identity =
  | { service: true; username: string }
  | { service: false; deviceId: string; kind: DeviceKind; protocol: DeviceProtocol };

export interface ServiceAccount {
  username: string;
  password: string;
}

function authError(code: 2 | 4 | 5, message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode: code }) as AuthenticateError;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** How long a registry answer is trusted when nobody says it changed (a change made straight in
 *  the database, e.g. the CLI while a hub runs); the registry's own changes apply at once. */
const CACHE_TTL_MS = 60_000;
/** Rewritten rows are written together: a storm of upgraded handsets is a few queries. */
const MIGRATE_FLUSH_MS = 200;

/** One core for ingest, the rest for scrypt: 1 on a 2-core machine. Used where the database is a
 *  server; see decision 006 for why it is not the default with the embedded engine. */
export function defaultMaxVerifications(): number {
  return Math.max(1, availableParallelism() - 1);
}

/** libuv's default thread pool size: as many scrypt checks as ran at once before the cap existed. */
export const POOL_VERIFICATIONS = 4;

export interface DeviceAuthOptions {
  /** scrypt checks at once (rows not yet migrated). Default POOL_VERIFICATIONS. */
  maxVerifications?: number | undefined;
  /** The server key (common/secrets.ts loadDeviceSecretKey). Without it rows in the HMAC form are
   *  refused and scrypt rows are not migrated (broker tests that need neither). */
  key?: DeviceSecretKey | null | undefined;
  backoff?: Partial<BackoffPolicy> | undefined;
  now?: () => number;
  /** Conformance test mode only (broker option `conformanceTest`): a client with no username gets
   *  in as anonymous (the Paho interoperability tests' clients). Never set from configuration. */
  allowAnonymous?: boolean | undefined;
}

export type DeviceChangeOutcome = 'closed' | 'kept' | 'not-connected';

export class DeviceAuth {
  readonly identities = new WeakMap<Client, Identity>();
  /** Remote address per connection stream (mqtt-broker.ts sets it as the socket arrives). */
  readonly addresses = new WeakMap<object, string>();
  readonly verifications: ConcurrencyLimit;
  readonly backoff: FailureBackoff;
  /** Clients let in without credentials (conformance test mode only). */
  readonly anonymous = new WeakSet<Client>();
  /** CONNECTs whose client id the server must refuse (MQTT 3.1.1 §3.1.3-8), seen by preConnect. */
  private readonly badClientIds = new WeakSet<Client>();
  private readonly allowAnonymous: boolean;
  private readonly key: DeviceSecretKey | null;
  private readonly now: () => number;
  // A reconnect storm of thousands of handsets must not become thousands of queries.
  private readonly cache = new Map<string, { at: number; device: DeviceRecord | null }>();
  /** The connected client of each device, and the stored values its secret was proven against. */
  private readonly connected = new Map<string, Client>();
  private readonly proven = new WeakMap<Client, string[]>();
  private readonly held = new Set<NodeJS.Timeout>();
  private readonly logs: LogBudget;
  private pendingMigrations = new Map<string, { id: string; fromHash: string; toHash: string }>();
  private migrateTimer: NodeJS.Timeout | null = null;
  private migrating: Promise<void> = Promise.resolve();

  constructor(
    private readonly pool: Pick<pg.Pool, 'query'>,
    private readonly service: ServiceAccount,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    options: number | DeviceAuthOptions = {},
  ) {
    const o: DeviceAuthOptions = typeof options === 'number' ? { maxVerifications: options } : options;
    this.key = o.key ?? null;
    this.allowAnonymous = o.allowAnonymous ?? false;
    this.now = o.now ?? Date.now;
    this.verifications = new ConcurrencyLimit(o.maxVerifications ?? POOL_VERIFICATIONS);
    this.backoff = new FailureBackoff(o.backoff, this.now);
    // Per address 5 lines a minute, 60 overall: 2,000 guesses in 10 s stay a handful of lines.
    this.logs = new LogBudget({ perKey: 5, total: 60, windowMs: 60_000, windows: 'start', clock: { now: this.now } });
    metrics.gauge(
      'mqtt_auth_verifications_queued',
      () => this.verifications.queued,
      'CONNECTs waiting for a scrypt check (rows not yet migrated, capped)',
    );
    metrics.gauge(
      'mqtt_auth_refusals_held',
      () => this.backoff.held,
      'refused CONNECTs whose CONNACK is being held back (password-guessing backoff)',
    );
    if (!this.key) log.warn('no device secret key: device rows in the HMAC form are refused, scrypt rows are not migrated');
  }

  /**
   * Aedes' preConnect hook: the only one that sees the CONNECT's own client id (Aedes gives an
   * empty one a random id before `authenticate`). An empty id asks the server to make up a session
   * that can never be resumed: MQTT 3.1.1 §3.1.3-8 says refuse it with return code 2 unless the
   * session is clean (Aedes accepts it, issue 16 item 6); MQTT 3.1 wants an id of 1 to 23 bytes.
   */
  preConnect = (client: Client, packet: ConnectPacket, done: (err: Error | null, ok: boolean) => void): void => {
    if (!packet.clientId && (!packet.clean || packet.protocolVersion === 3)) this.badClientIds.add(client);
    done(null, true);
  };

  authenticate = (
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    done: (err: AuthenticateError | null, ok: boolean | null) => void,
  ): void => {
    const address = this.addresses.get(client.conn) ?? 'unknown';
    // The identifier is refused before the credentials are looked at (§3.1.4: checked in order).
    if (this.badClientIds.has(client)) {
      this.metrics.inc('mqtt_auth_total', { result: 'identifier_rejected' });
      if (this.logs.take(address))
        this.log.warn(
          { username, address, reason: 'identifier_rejected' },
          'mqtt connection refused: empty client id without a clean session',
        );
      return done(authError(2, 'an empty client id needs clean session 1'), false);
    }
    if (this.allowAnonymous && !username) {
      this.anonymous.add(client);
      this.metrics.inc('mqtt_auth_total', { result: 'anonymous' });
      return done(null, true);
    }
    this.check(client, username, password, address).then(
      (identity) => {
        this.identities.set(client, identity);
        if (!identity.service) {
          this.connected.set(identity.deviceId, client);
          this.backoff.succeeded(address, identity.deviceId);
        }
        this.metrics.inc('mqtt_auth_total', { result: 'ok' });
        done(null, true);
      },
      (err: AuthenticateError) => this.refuse(client, username, address, err, done),
    );
  };

  private refuse(
    client: Client,
    username: string | undefined,
    address: string,
    err: AuthenticateError,
    done: (err: AuthenticateError | null, ok: boolean | null) => void,
  ): void {
    const reason = err.returnCode === 5 ? 'not_authorized' : 'bad_credentials';
    this.metrics.inc('mqtt_auth_total', { result: reason });
    // Only wrong or unknown credentials are guesses; a disabled device or a registry outage is not.
    const verdict = err.returnCode === 4 ? this.backoff.failed(address, username ?? '') : null;
    const budget = this.logs.take(address);
    if (budget) {
      // The client id and username are not secret; the password never appears in logs.
      this.log.warn(
        {
          clientId: client.id,
          username,
          address,
          reason,
          detail: err.message,
          ...(verdict && verdict.scope !== 'none'
            ? { backoffMs: verdict.delayMs, failures: verdict.pairFailures, addressFailures: verdict.addressFailures }
            : {}),
          ...(budget.suppressed ? { suppressed: budget.suppressed } : {}),
        },
        'mqtt connection refused',
      );
    }
    if (!verdict || verdict.delayMs === 0) return done(err, false);
    if (!this.backoff.hold(address)) {
      // Too many refusals held for this address already: close without an answer rather than hold more.
      this.metrics.inc('mqtt_auth_backoff_dropped_total');
      client.close();
      return;
    }
    this.metrics.inc('mqtt_auth_backoff_total', { scope: verdict.scope });
    const timer = setTimeout(() => {
      this.held.delete(timer);
      this.backoff.release(address);
      done(err, false);
    }, verdict.delayMs);
    this.held.add(timer);
  }

  private async check(client: Client, username: string | undefined, password: Buffer | undefined, address: string): Promise<Identity> {
    if (!username || !password) throw authError(4, 'username and password are required');
    if (username === this.service.username) {
      if (!sameSecret(password.toString(), this.service.password)) throw authError(4, 'wrong service password');
      return { service: true, username };
    }
    if (!DEVICE_ID_PATTERN.test(username)) throw authError(4, 'malformed device id');
    const device = await this.device(username);
    if (!device || !(await this.secretMatches(client, device, password, address))) throw authError(4, 'unknown device or wrong secret');
    if (!device.enabled) throw authError(5, 'device disabled');
    if (client.id !== device.id) throw authError(5, `client id must equal the device id`);
    return { service: false, deviceId: device.id, kind: device.kind, protocol: device.protocol };
  }

  private async secretMatches(client: Client, device: DeviceRecord, password: Buffer, address: string): Promise<boolean> {
    const verdict = checkDeviceSecret(this.key, device.id, password, device.secretHash);
    if (verdict === 'ok' || verdict === 'mismatch') {
      this.metrics.inc('mqtt_auth_verifications_total', { via: 'hmac' });
      if (verdict === 'ok') this.proven.set(client, [device.secretHash]);
      return verdict === 'ok';
    }
    if (verdict === 'other-key') {
      // Every such device would be refused: say why once a minute, not once per device.
      this.metrics.inc('mqtt_auth_key_mismatch_total');
      if (this.logs.take('key-mismatch')) {
        this.log.error(
          { deviceId: device.id, rowKey: storedKeyId(device.secretHash), brokerKey: this.key?.id ?? null },
          'device secret written under another key: set DEVICE_SECRET_KEY (or DATA_DIR) to the key these rows were written with, or rotate the secrets',
        );
      }
      return false;
    }
    if (verdict === 'malformed') return false;
    // A scrypt row: the slow check once, the fast form from then on.
    this.metrics.inc('mqtt_auth_verifications_total', { via: 'scrypt' });
    const priority = this.backoff.suspect(address, device.id) ? 'low' : 'high';
    const ok = await this.verifications.run(() => verifySecret(password, device.secretHash), priority);
    if (!ok) return false;
    const stored = [device.secretHash];
    if (this.key) {
      const next = hmacDeviceSecret(this.key, device.id, password);
      stored.push(next);
      this.cache.set(device.id, { at: this.now(), device: { ...device, secretHash: next } });
      this.queueMigration({ id: device.id, fromHash: device.secretHash, toHash: next });
    }
    this.proven.set(client, stored);
    return true;
  }

  private queueMigration(row: { id: string; fromHash: string; toHash: string }): void {
    this.pendingMigrations.set(row.id, row);
    this.migrateTimer ??= setTimeout(() => void this.flushMigrations(), MIGRATE_FLUSH_MS);
  }

  /** Writes the queued HMAC forms (also at stop). */
  flushMigrations(): Promise<void> {
    if (this.migrateTimer) clearTimeout(this.migrateTimer);
    this.migrateTimer = null;
    const rows = [...this.pendingMigrations.values()];
    this.pendingMigrations = new Map();
    if (rows.length === 0) return this.migrating;
    this.migrating = this.migrating.then(() =>
      migrateDeviceSecrets(this.pool, rows).then(
        (n) => {
          this.metrics.inc('mqtt_auth_secrets_migrated_total', undefined, n);
          this.log.info({ devices: n }, 'device secrets rewritten from scrypt to the HMAC form');
        },
        // Harmless: the row keeps its scrypt form and is migrated at a later connect.
        (err: Error) => this.log.error({ err: err.message, devices: rows.length }, 'rewriting device secrets failed'),
      ),
    );
    return this.migrating;
  }

  /**
   * The registry changed a device (hub → system.ts → broker): reload its row, and close its live
   * connection when it may no longer be there (deleted, disabled, secret rotated, kind changed).
   */
  async deviceChanged(deviceId: string): Promise<DeviceChangeOutcome> {
    const device = await findDevice(this.pool, deviceId);
    this.cache.set(deviceId, { at: this.now(), device });
    const client = this.connected.get(deviceId);
    if (!client || client.closed) {
      this.connected.delete(deviceId);
      return 'not-connected';
    }
    const identity = this.identities.get(client);
    const why = !device
      ? 'deleted'
      : !device.enabled
        ? 'disabled'
        : identity && !identity.service && identity.kind !== device.kind
          ? 'kind_changed'
          : identity && !identity.service && identity.protocol !== device.protocol
            ? 'protocol_changed'
            : !(this.proven.get(client) ?? []).includes(device.secretHash)
              ? 'secret_rotated'
              : null;
    if (why === null) return 'kept';
    this.connected.delete(deviceId);
    this.metrics.inc('mqtt_clients_closed_total', { reason: why });
    this.log.info({ deviceId, reason: why }, 'device connection closed by a registry change');
    client.close();
    return 'closed';
  }

  /** Loads every device's credentials in one query (broker start). */
  async preload(): Promise<void> {
    const now = this.now();
    for (const device of await listDevices(this.pool)) this.cache.set(device.id, { at: now, device });
  }

  /** Drops the refusals still held (their connections close with the broker) and writes the
   *  pending migrations (broker stop). */
  async stop(): Promise<void> {
    for (const t of this.held) clearTimeout(t);
    this.held.clear();
    await this.flushMigrations();
  }

  private async device(id: string): Promise<DeviceRecord | null> {
    const hit = this.cache.get(id);
    if (hit && this.now() - hit.at < CACHE_TTL_MS) return hit.device;
    const device = await findDevice(this.pool, id).catch((err: Error) => {
      // A database outage is not the device's fault: refuse for now, say why in the log.
      this.log.error({ err: err.message }, 'device lookup failed during mqtt authentication');
      throw authError(5, 'device registry unavailable');
    });
    if (this.cache.size > 200_000) this.cache.clear();
    this.cache.set(id, { at: this.now(), device });
    return device;
  }
}
