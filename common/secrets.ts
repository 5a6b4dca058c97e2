// Secrets: people's passwords as scrypt hashes; device secrets as random tokens verified by a keyed
// fast hash (issue 14, "Device secrets at connect speed").
//
// A person picks a password that may be guessed offline from a leaked table, so it gets scrypt.
// A device secret is 192 random bits issued by the hub: nobody can guess it, so a slow hash buys
// nothing and cost a connect storm of 10,000 handsets minutes of CPU. It is stored as
// HMAC-SHA-256(server key, device id ‖ secret): a leaked `devices` table holds no secret and no
// way to test one without the key, which lives outside the database (DEVICE_SECRET_KEY, else a
// key file in DATA_DIR). The device id is in the MAC so a row's value cannot be copied to another
// device's row. Rows written before this (scrypt) still verify; the broker rewrites each one in
// the HMAC form after its first successful connect (broker/device-auth.ts).
import { createHash, createHmac, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const N = 1024;
const R = 8;
const P = 1;
const KEYLEN = 32;

/** Bytes of a new device secret: 24 (192 bits), 32 characters of base64url. */
export const DEVICE_SECRET_BYTES = 24;

/** A new device secret (or any random credential the hub hands out). */
export function newSecret(): string {
  return randomBytes(DEVICE_SECRET_BYTES).toString('base64url');
}

// Async scrypt runs on libuv's thread pool: a connect storm must not block the event loop.
function scryptAsync(secret: string | Buffer, salt: Buffer, keylen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(secret, salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key))));
}

/** scrypt, for people's passwords (and device rows written before the HMAC form). */
export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(secret, salt, KEYLEN, { N, r: R, p: P });
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

export async function verifySecret(secret: string | Buffer, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [, n, r, p, salt, hash] = parts as [string, string, string, string, string, string];
  const expected = Buffer.from(hash, 'base64url');
  const actual = await scryptAsync(secret, Buffer.from(salt, 'base64url'), expected.length, { N: Number(n), r: Number(r), p: Number(p) });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

export function isScryptHash(stored: string): boolean {
  return stored.startsWith('scrypt$');
}

// ---- Device secrets: HMAC-SHA-256 under a server key ---------------------------------------------

/** The server key and its id (first 8 hex digits of its SHA-256): rows name the key they were
 *  written under, so a broker started with another key says so instead of refusing every device. */
export interface DeviceSecretKey {
  readonly key: Buffer;
  readonly id: string;
}

const HMAC_PREFIX = 'hmac-sha256$';

export function deviceSecretKey(material: string | Buffer): DeviceSecretKey {
  const key = typeof material === 'string' ? Buffer.from(material, 'utf8') : material;
  if (key.length < 32) throw new Error('a device secret key needs at least 32 bytes');
  return Object.freeze({ key, id: createHash('sha256').update(key).digest('hex').slice(0, 8) });
}

/** A key for a process whose database dies with it (the in-memory test database, benches). */
export function ephemeralDeviceSecretKey(): DeviceSecretKey {
  return deviceSecretKey(randomBytes(32));
}

function mac(k: DeviceSecretKey, deviceId: string, secret: string | Buffer): Buffer {
  // NUL cannot occur in a device id (protocol/topics.ts DEVICE_ID_PATTERN): id and secret stay apart.
  return createHmac('sha256', k.key).update(deviceId).update('\0').update(secret).digest();
}

/** The stored form of a device secret: `hmac-sha256$<key id>$<base64url MAC>`. */
export function hmacDeviceSecret(k: DeviceSecretKey, deviceId: string, secret: string | Buffer): string {
  return `${HMAC_PREFIX}${k.id}$${mac(k, deviceId, secret).toString('base64url')}`;
}

export type DeviceSecretCheck =
  | 'ok'
  | 'mismatch'
  /** A scrypt row: verify with verifySecret (slow) and rewrite it. */
  | 'legacy'
  /** Written under another key: this process cannot tell. */
  | 'other-key'
  | 'malformed';

/** One HMAC and a constant-time compare: microseconds, on the event loop. */
export function checkDeviceSecret(k: DeviceSecretKey | null, deviceId: string, secret: string | Buffer, stored: string): DeviceSecretCheck {
  if (isScryptHash(stored)) return 'legacy';
  if (!stored.startsWith(HMAC_PREFIX)) return 'malformed';
  const [keyId, value] = stored.slice(HMAC_PREFIX.length).split('$') as [string, string | undefined];
  if (value === undefined) return 'malformed';
  if (k === null || keyId !== k.id) return 'other-key';
  const expected = Buffer.from(value, 'base64url');
  const actual = mac(k, deviceId, secret);
  return expected.length === actual.length && timingSafeEqual(expected, actual) ? 'ok' : 'mismatch';
}

/** The key id a stored HMAC value was written under (null for scrypt or malformed values). */
export function storedKeyId(stored: string): string | null {
  if (!stored.startsWith(HMAC_PREFIX)) return null;
  return stored.slice(HMAC_PREFIX.length).split('$')[0] ?? null;
}

/**
 * A credential derived from a device's stored secret value, for protocols whose server hands the
 * device a code (JT/T 808: the authentication code sent in 0x8100 and presented in 0x0102). The
 * server can recompute it with the key, the table does not hold it, and rotating the device's secret
 * changes it. `purpose` keeps codes of different uses apart.
 */
export function derivedDeviceCode(k: DeviceSecretKey, deviceId: string, storedSecret: string, purpose: string, length = 24): string {
  return createHmac('sha256', k.key).update(`derived\0${purpose}\0${deviceId}\0${storedSecret}`).digest('base64url').slice(0, length);
}

export const DEVICE_KEY_FILE = 'device-secret.key';

export interface LoadedDeviceKey extends DeviceSecretKey {
  /** Where it came from, for one log line at start (never the key itself). */
  source: 'DEVICE_SECRET_KEY' | 'file' | 'file-created';
  path: string | null;
}

/**
 * The server key: DEVICE_SECRET_KEY when set, else `DATA_DIR/device-secret.key`, created once
 * with 32 random bytes and mode 0600. Several processes starting at once (cluster workers) agree:
 * the file appears by an atomic link, so a reader never sees it half written. Copy the file's
 * content into DEVICE_SECRET_KEY to give other machines the same key.
 */
export function loadDeviceSecretKey(config: { DEVICE_SECRET_KEY?: string | undefined; DATA_DIR: string }): LoadedDeviceKey {
  if (config.DEVICE_SECRET_KEY) return { ...deviceSecretKey(config.DEVICE_SECRET_KEY), source: 'DEVICE_SECRET_KEY', path: null };
  const dir = config.DATA_DIR === '' ? '.' : config.DATA_DIR;
  const path = join(dir, DEVICE_KEY_FILE);
  const read = (): LoadedDeviceKey | null => {
    try {
      // Owner-only, as ssh insists for its keys; a copy restored with a looser mode is tightened.
      if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
      return { ...deviceSecretKey(readFileSync(path, 'utf8').trim()), source: 'file', path };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new Error(`cannot read the device secret key ${path}: ${(err as Error).message}`);
    }
  };
  const existing = read();
  if (existing) return existing;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  let created = true;
  try {
    linkSync(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    created = false; // another process made it first: use theirs
  } finally {
    unlinkSync(tmp);
  }
  const made = read();
  if (!made) throw new Error(`cannot create the device secret key ${path}`);
  return { ...made, source: created ? 'file-created' : 'file' };
}
