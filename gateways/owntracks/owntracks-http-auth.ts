// Who may POST as an OwnTracks phone: HTTP Basic with username = device id and password = its secret,
// checked the way the broker checks an MQTT password (broker/device-auth.ts: one HMAC under the server
// key, common/secrets.ts checkDeviceSecret; a row still in the scrypt form verified by scrypt), for an
// enabled handset whose protocol is `owntracks`. Wrong or unknown credentials are answered later and
// later per address and id by the broker's own FailureBackoff (broker/verify-limit.ts), so the two
// doors treat a guesser alike; a right secret never waits.
import { setTimeout as sleep } from 'node:timers/promises';
import { checkDeviceSecret, verifySecret, type DeviceSecretKey } from '../../common/secrets.js';
import type { Logger } from '../../common/logger.js';
import type { Metrics } from '../../common/metrics.js';
import { DEVICE_ID_PATTERN } from '../../protocol/topics.js';
import type { DeviceRecord } from '../../storage/device-store.js';
import { FailureBackoff, type BackoffPolicy } from '../../broker/verify-limit.js';
import { LogBudget } from '../../common/log-budget.js';

export type OwnTracksDevice = Pick<DeviceRecord, 'id' | 'kind' | 'protocol' | 'secretHash' | 'enabled'>;

export type AuthVerdict =
  | { ok: true; deviceId: string }
  /** 401 wrong or unknown credentials, 403 a device that may not post here, 429 too many held, 503 registry away. */
  | { ok: false; status: 401 | 403 | 429 | 503; reason: string };

/**
 * A registry answer is trusted this long: a phone posts every few seconds at most, and a device
 * disabled or re-keyed is refused within a second, as the issue asks of the broker.
 */
const CACHE_TTL_MS = 1000;
const CACHE_MAX = 100_000;

export interface OwnTracksAuthOptions {
  find(deviceId: string): Promise<OwnTracksDevice | null>;
  key: DeviceSecretKey | null;
  metrics: Metrics;
  logger: Logger;
  backoff?: Partial<BackoffPolicy>;
  now?: () => number;
}

export function parseBasic(header: string | undefined): { username: string; password: string } | null {
  const m = /^basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!m) return null;
  const text = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon <= 0) return null;
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

export class OwnTracksHttpAuth {
  readonly backoff: FailureBackoff;
  private readonly cache = new Map<string, { at: number; device: OwnTracksDevice | null }>();
  private readonly logs: LogBudget;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly aborts = new AbortController();

  constructor(private readonly o: OwnTracksAuthOptions) {
    this.now = o.now ?? Date.now;
    this.backoff = new FailureBackoff(o.backoff, this.now);
    this.logs = new LogBudget({ perKey: 5, total: 60, windowMs: 60_000, windows: 'start', clock: { now: this.now } });
    this.log = o.logger.child({ mod: 'owntracks-http' });
  }

  /** Checks the Authorization header; a refusal of guessed credentials returns only after its backoff. */
  async check(address: string, authorization: string | undefined): Promise<AuthVerdict> {
    const creds = parseBasic(authorization);
    // No credentials at all is a misconfigured app, not a guess: no backoff.
    if (!creds) return this.refused(address, null, 401, 'no_credentials');
    const { username, password } = creds;
    if (!DEVICE_ID_PATTERN.test(username)) return this.guessed(address, username, 'malformed_device_id');
    let device: OwnTracksDevice | null;
    try {
      device = await this.device(username);
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'device lookup failed for an OwnTracks post');
      return this.refused(address, username, 503, 'registry_unavailable');
    }
    if (!device || !(await this.matches(device, password))) return this.guessed(address, username, 'bad_credentials');
    this.backoff.succeeded(address, device.id);
    if (!device.enabled) return this.refused(address, username, 403, 'disabled');
    if (device.protocol !== 'owntracks' || device.kind !== 'handset') return this.refused(address, username, 403, 'not_owntracks');
    return { ok: true, deviceId: device.id };
  }

  /** Whether `secret` is the device's (also the setup route's check before it draws a QR code). */
  async matches(device: OwnTracksDevice, secret: string): Promise<boolean> {
    const verdict = checkDeviceSecret(this.o.key, device.id, secret, device.secretHash);
    if (verdict === 'legacy') return verifySecret(secret, device.secretHash);
    if (verdict === 'other-key' && this.logs.take('key-mismatch')) {
      this.log.error(
        { deviceId: device.id },
        'device secret written under another key: set DEVICE_SECRET_KEY (or DATA_DIR) to the key these rows were written with',
      );
    }
    return verdict === 'ok';
  }

  async device(id: string): Promise<OwnTracksDevice | null> {
    const hit = this.cache.get(id);
    if (hit && this.now() - hit.at < CACHE_TTL_MS) return hit.device;
    const device = await this.o.find(id);
    if (this.cache.size >= CACHE_MAX) this.cache.clear();
    this.cache.set(id, { at: this.now(), device });
    return device;
  }

  /** Ends the backoff waits (server close): their requests end with the server. */
  close(): void {
    this.aborts.abort();
  }

  private async guessed(address: string, username: string, reason: string): Promise<AuthVerdict> {
    const verdict = this.backoff.failed(address, username);
    if (verdict.delayMs > 0) {
      if (!this.backoff.hold(address)) {
        this.o.metrics.inc('owntracks_http_backoff_dropped_total');
        return this.refused(address, username, 429, reason);
      }
      this.o.metrics.inc('owntracks_http_backoff_total', { scope: verdict.scope });
      try {
        await sleep(verdict.delayMs, undefined, { signal: this.aborts.signal });
      } catch {
        // closing: answer now
      } finally {
        this.backoff.release(address);
      }
    }
    return this.refused(address, username, 401, reason);
  }

  private refused(address: string, username: string | null, status: 401 | 403 | 429 | 503, reason: string): AuthVerdict {
    this.o.metrics.inc('owntracks_http_refused_total', { reason });
    const budget = this.logs.take(address);
    // The username is a device id, not a secret; the password never appears in logs.
    if (budget)
      this.log.warn(
        { address, username, reason, status, ...(budget.suppressed ? { suppressed: budget.suppressed } : {}) },
        'owntracks post refused',
      );
    return { ok: false, status, reason };
  }
}
