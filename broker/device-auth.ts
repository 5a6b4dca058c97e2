// Who may connect: a registered, enabled device whose client id is its device id and whose
// password matches the stored scrypt hash; or the hub's service account. Failures answer with the
// protocol's return codes (4 bad username or password, 5 not authorised), are counted and logged.
// scrypt verifications run at most `maxVerifications` at once (verify-limit.ts); a device that
// reconnects with the secret it was verified with is checked against an in-memory HMAC of it.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { availableParallelism } from 'node:os';
import type { Client, AuthenticateError } from 'aedes';
import type pg from 'pg';
import type { Logger } from '../common/logger.js';
import type { Metrics } from '../common/metrics.js';
import { verifySecret } from '../common/secrets.js';
import { findDevice, listDevices, type DeviceRecord } from '../storage/device-store.js';
import { DEVICE_ID_PATTERN, type DeviceKind } from '../protocol/topics.js';
import { ConcurrencyLimit } from './verify-limit.js';

export type Identity = { service: true; username: string } | { service: false; deviceId: string; kind: DeviceKind };

export interface ServiceAccount {
  username: string;
  password: string;
}

function authError(code: 4 | 5, message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode: code }) as AuthenticateError;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** How long a registry answer is trusted: a disabled or re-keyed device is refused within this. */
const CACHE_TTL_MS = 60_000;

/** One core for ingest, the rest for scrypt: 1 on a 2-core machine. Used where the database is a
 *  server (broker/main.ts); see decision 006 for why it is not the default with the embedded engine. */
export function defaultMaxVerifications(): number {
  return Math.max(1, availableParallelism() - 1);
}

/** libuv's default thread pool size: as many scrypt checks as ran at once before the cap existed. */
export const POOL_VERIFICATIONS = 4;

export class DeviceAuth {
  readonly identities = new WeakMap<Client, Identity>();
  readonly verifications: ConcurrencyLimit;
  // A reconnect storm of thousands of handsets must not become thousands of queries.
  private readonly cache = new Map<string, { at: number; device: DeviceRecord | null }>();
  // A reconnect (network blip, broker restart of a hub-side client) must not cost scrypt again:
  // the secret a device last proved, as an HMAC under a key that lives only in this process,
  // tied to the stored hash it was verified against (a re-keyed device is verified afresh).
  private readonly verified = new Map<string, { secretHash: string; mac: Buffer }>();
  private readonly macKey = randomBytes(32);

  constructor(
    private readonly pool: Pick<pg.Pool, 'query'>,
    private readonly service: ServiceAccount,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    maxVerifications = POOL_VERIFICATIONS,
  ) {
    this.verifications = new ConcurrencyLimit(maxVerifications);
    metrics.gauge('mqtt_auth_verifications_queued', () => this.verifications.queued, 'CONNECTs waiting for a password check (scrypt, capped)');
  }

  authenticate = (
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    done: (err: AuthenticateError | null, ok: boolean | null) => void,
  ): void => {
    this.check(client, username, password).then(
      (identity) => {
        this.identities.set(client, identity);
        this.metrics.inc('mqtt_auth_total', { result: 'ok' });
        done(null, true);
      },
      (err: AuthenticateError) => {
        const reason = err.returnCode === 5 ? 'not_authorized' : 'bad_credentials';
        this.metrics.inc('mqtt_auth_total', { result: reason });
        // The client id and username are not secret; the password never appears in logs.
        this.log.warn({ clientId: client.id, username, reason, detail: err.message }, 'mqtt connection refused');
        done(err, false);
      },
    );
  };

  private async check(client: Client, username: string | undefined, password: Buffer | undefined): Promise<Identity> {
    if (!username || !password) throw authError(4, 'username and password are required');
    if (username === this.service.username) {
      if (!sameSecret(password.toString(), this.service.password)) throw authError(4, 'wrong service password');
      return { service: true, username };
    }
    if (!DEVICE_ID_PATTERN.test(username)) throw authError(4, 'malformed device id');
    const device = await this.device(username);
    if (!device || !(await this.secretMatches(device, password))) throw authError(4, 'unknown device or wrong secret');
    if (!device.enabled) throw authError(5, 'device disabled');
    if (client.id !== device.id) throw authError(5, `client id must equal the device id`);
    return { service: false, deviceId: device.id, kind: device.kind };
  }

  private async secretMatches(device: DeviceRecord, password: Buffer): Promise<boolean> {
    const mac = createHmac('sha256', this.macKey).update(password).digest();
    const known = this.verified.get(device.id);
    if (known && known.secretHash === device.secretHash && timingSafeEqual(known.mac, mac)) {
      this.metrics.inc('mqtt_auth_verifications_total', { via: 'cache' });
      return true;
    }
    this.metrics.inc('mqtt_auth_verifications_total', { via: 'scrypt' });
    const ok = await this.verifications.run(() => verifySecret(password, device.secretHash));
    if (ok) {
      if (this.verified.size > 200_000) this.verified.clear();
      this.verified.set(device.id, { secretHash: device.secretHash, mac });
    }
    return ok;
  }

  /** Loads every device's credentials in one query (broker start). */
  async preload(): Promise<void> {
    const now = Date.now();
    for (const device of await listDevices(this.pool)) this.cache.set(device.id, { at: now, device });
  }

  private async device(id: string): Promise<DeviceRecord | null> {
    const hit = this.cache.get(id);
    if (hit && Date.now() - hit.at < CACHE_TTL_MS) return hit.device;
    const device = await findDevice(this.pool, id).catch((err: Error) => {
      // A database outage is not the device's fault: refuse for now, say why in the log.
      this.log.error({ err: err.message }, 'device lookup failed during mqtt authentication');
      throw authError(5, 'device registry unavailable');
    });
    if (this.cache.size > 200_000) this.cache.clear();
    this.cache.set(id, { at: Date.now(), device });
    return device;
  }
}
