// Who may connect: a registered, enabled device whose client id is its device id and whose
// password matches the stored scrypt hash; or the hub's service account. Failures answer with the
// protocol's return codes (4 bad username or password, 5 not authorised), are counted and logged.
import { timingSafeEqual } from 'node:crypto';
import type { Client, AuthenticateError } from 'aedes';
import type pg from 'pg';
import type { Logger } from '../common/logger.js';
import type { Metrics } from '../common/metrics.js';
import { verifySecret } from '../common/secrets.js';
import { findDevice, listDevices, type DeviceRecord } from '../storage/device-store.js';
import { DEVICE_ID_PATTERN, type DeviceKind } from '../protocol/topics.js';

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

export class DeviceAuth {
  readonly identities = new WeakMap<Client, Identity>();
  // A reconnect storm of thousands of handsets must not become thousands of queries.
  private readonly cache = new Map<string, { at: number; device: DeviceRecord | null }>();

  constructor(
    private readonly pool: Pick<pg.Pool, 'query'>,
    private readonly service: ServiceAccount,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

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
    if (!device || !(await verifySecret(password, device.secretHash))) throw authError(4, 'unknown device or wrong secret');
    if (!device.enabled) throw authError(5, 'device disabled');
    if (client.id !== device.id) throw authError(5, `client id must equal the device id`);
    return { service: false, deviceId: device.id, kind: device.kind };
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
