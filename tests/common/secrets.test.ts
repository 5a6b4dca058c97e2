// Device secrets (issue 14): random tokens, stored as HMAC-SHA-256 under a key kept outside the
// database; the key from DEVICE_SECRET_KEY or a 0600 file made once in DATA_DIR. People keep scrypt.
import { mkdtempSync, readFileSync, rmSync, statSync, chmodSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fork } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DEVICE_KEY_FILE,
  checkDeviceSecret,
  derivedDeviceCode,
  deviceSecretKey,
  ephemeralDeviceSecretKey,
  hashSecret,
  hmacDeviceSecret,
  loadDeviceSecretKey,
  newSecret,
  storedKeyId,
  verifySecret,
} from '../../common/secrets.js';

const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'device-key-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('device secrets', () => {
  it('are 192 random bits in 32 base64url characters', () => {
    const a = newSecret();
    expect(a).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(Buffer.from(a, 'base64url')).toHaveLength(24);
    expect(newSecret()).not.toBe(a);
  });

  it('verify by HMAC under the key, bound to the device id', () => {
    const k = ephemeralDeviceSecretKey();
    const secret = newSecret();
    const stored = hmacDeviceSecret(k, 'hs-1', secret);
    expect(stored).toMatch(new RegExp(`^hmac-sha256\\$${k.id}\\$[A-Za-z0-9_-]{43}$`));
    expect(stored).not.toContain(secret);
    expect(checkDeviceSecret(k, 'hs-1', secret, stored)).toBe('ok');
    expect(checkDeviceSecret(k, 'hs-1', Buffer.from(secret), stored)).toBe('ok');
    expect(checkDeviceSecret(k, 'hs-1', `${secret}x`, stored)).toBe('mismatch');
    // A row's value copied to another device's row does not let that device in.
    expect(checkDeviceSecret(k, 'hs-2', secret, stored)).toBe('mismatch');
  });

  it('cannot be checked without the key they were written under (a leaked table lets nobody in)', () => {
    const k = ephemeralDeviceSecretKey();
    const stored = hmacDeviceSecret(k, 'hs-1', 'the-secret-of-hs-1-0123456789');
    expect(checkDeviceSecret(ephemeralDeviceSecretKey(), 'hs-1', 'the-secret-of-hs-1-0123456789', stored)).toBe('other-key');
    expect(checkDeviceSecret(null, 'hs-1', 'the-secret-of-hs-1-0123456789', stored)).toBe('other-key');
    expect(storedKeyId(stored)).toBe(k.id);
    expect(checkDeviceSecret(k, 'hs-1', 'x', 'plain-text')).toBe('malformed');
    expect(checkDeviceSecret(k, 'hs-1', 'x', 'hmac-sha256$abc')).toBe('malformed');
  });

  it('tell scrypt rows apart for the one-time migration; scrypt stays for people', async () => {
    const stored = await hashSecret('a person picks this');
    expect(checkDeviceSecret(ephemeralDeviceSecretKey(), 'hs-1', 'a person picks this', stored)).toBe('legacy');
    expect(await verifySecret('a person picks this', stored)).toBe(true);
    expect(await verifySecret('a person picks that', stored)).toBe(false);
  });

  it('derive a protocol code (JT/T 808 authentication) that only the key recomputes and a rotation changes', () => {
    const k = ephemeralDeviceSecretKey();
    const row = hmacDeviceSecret(k, 'jt-1', newSecret());
    const code = derivedDeviceCode(k, 'jt-1', row, 'jt808-auth');
    expect(code).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(derivedDeviceCode(k, 'jt-1', row, 'jt808-auth')).toBe(code);
    expect(derivedDeviceCode(k, 'jt-1', hmacDeviceSecret(k, 'jt-1', newSecret()), 'jt808-auth')).not.toBe(code);
    expect(derivedDeviceCode(ephemeralDeviceSecretKey(), 'jt-1', row, 'jt808-auth')).not.toBe(code);
    expect(derivedDeviceCode(k, 'jt-1', row, 'other')).not.toBe(code);
  });

  it('refuse a key shorter than 32 bytes', () => {
    expect(() => deviceSecretKey('short')).toThrow(/32 bytes/);
  });
});

describe('the server key', () => {
  it('comes from DEVICE_SECRET_KEY when set, and nothing is written', () => {
    const dir = tmp();
    const k = loadDeviceSecretKey({ DEVICE_SECRET_KEY: 'k'.repeat(40), DATA_DIR: dir });
    expect(k.source).toBe('DEVICE_SECRET_KEY');
    expect(k.id).toBe(deviceSecretKey('k'.repeat(40)).id);
    expect(() => statSync(join(dir, DEVICE_KEY_FILE))).toThrow();
  });

  it('is made once in DATA_DIR with mode 0600, and read back the same on the next start', () => {
    const dir = join(tmp(), 'data'); // not there yet: made with the file
    const first = loadDeviceSecretKey({ DATA_DIR: dir });
    expect(first.source).toBe('file-created');
    const path = join(dir, DEVICE_KEY_FILE);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, 'utf8').trim()).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const again = loadDeviceSecretKey({ DATA_DIR: dir });
    expect(again.source).toBe('file');
    expect(again.id).toBe(first.id);
    // The file's content is a valid DEVICE_SECRET_KEY for another machine.
    expect(loadDeviceSecretKey({ DATA_DIR: tmp(), DEVICE_SECRET_KEY: readFileSync(path, 'utf8').trim() }).id).toBe(first.id);
  });

  it('tightens a key file restored with a looser mode', () => {
    const dir = tmp();
    const path = join(dir, DEVICE_KEY_FILE);
    writeFileSync(path, 'z'.repeat(43));
    chmodSync(path, 0o644);
    expect(loadDeviceSecretKey({ DATA_DIR: dir }).source).toBe('file');
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('is the same key for processes that start at once on an empty DATA_DIR', async () => {
    const dir = tmp();
    const script = join(dir, 'load.mts');
    writeFileSync(
      script,
      `import { loadDeviceSecretKey } from ${JSON.stringify(new URL('../../common/secrets.ts', import.meta.url).pathname)};\nprocess.send?.(loadDeviceSecretKey({ DATA_DIR: ${JSON.stringify(join(dir, 'data'))} }).id, () => process.exit(0));\n`,
    );
    const ids = await Promise.all(
      Array.from(
        { length: 4 },
        () =>
          new Promise<string>((resolve, reject) => {
            const child = fork(script, [], { execArgv: ['--import', 'tsx'] });
            child.once('message', (m) => resolve(String(m)));
            child.once('error', reject);
          }),
      ),
    );
    expect(new Set(ids).size).toBe(1);
    expect(ids[0]).toBe(loadDeviceSecretKey({ DATA_DIR: join(dir, 'data') }).id);
  });
});
