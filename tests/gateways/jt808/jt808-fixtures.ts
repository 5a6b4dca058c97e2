// Loads the frames under fixtures/: each file cites the public repository it comes from in its
// `#` lines; the rest is hex (spaces allowed), the whole frame with its 0x7E delimiters.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const DIR = fileURLToPath(new URL('./fixtures/', import.meta.url));

export function fixture(name: string): Buffer {
  const text = readFileSync(`${DIR}${name}.hex`, 'utf8');
  const hex = text
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .join('')
    .replace(/\s+/g, '');
  return Buffer.from(hex, 'hex');
}

/** The frame between its delimiters, as FrameSplitter hands it to decodeFrame. */
export function inner(name: string): Buffer {
  const b = fixture(name);
  return b.subarray(1, b.length - 1);
}
