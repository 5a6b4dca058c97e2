// Device secrets: stored as scrypt hashes, compared in constant time.
// Secrets are issued as 128-bit random strings, so brute force is out of reach whatever the
// hash cost; a low scrypt cost keeps a reconnect storm of thousands of handsets cheap.
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

const N = 1024;
const R = 8;
const P = 1;
const KEYLEN = 32;

export function newSecret(): string {
  return randomBytes(16).toString('base64url');
}

export function hashSecret(secret: string): string {
  const salt = randomBytes(16);
  const hash = scryptSync(secret, salt, KEYLEN, { N, r: R, p: P });
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

export function verifySecret(secret: string | Buffer, stored: string): boolean {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [, n, r, p, salt, hash] = parts as [string, string, string, string, string, string];
  const expected = Buffer.from(hash, 'base64url');
  const actual = scryptSync(secret, Buffer.from(salt, 'base64url'), expected.length, { N: Number(n), r: Number(r), p: Number(p) });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
