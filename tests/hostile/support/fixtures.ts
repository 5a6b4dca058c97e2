// The hostile packets kept as files (tests/hostile/fixtures/hostile-packets.json, written by
// fixtures/make-fixtures.ts).
import { readFileSync } from 'node:fs';

type Fixture = { why: string; hex: string; fill?: number };
const all = JSON.parse(readFileSync(new URL('../fixtures/hostile-packets.json', import.meta.url), 'utf8')) as Record<string, Fixture>;

export function hostilePacket(name: string): Buffer {
  const f = all[name];
  if (!f) throw new Error(`no hostile fixture ${name}`);
  return Buffer.from(f.hex, 'hex');
}

/** Filler bytes that follow the packet's start (an unfinished packet), 0 if none. */
export function hostileFill(name: string): number {
  return all[name]?.fill ?? 0;
}
