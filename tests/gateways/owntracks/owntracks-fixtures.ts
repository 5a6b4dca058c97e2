// OwnTracks payloads as the apps send them (booklet "JSON" page and "Regions" page; values near
// Zhuzhou), and hostile ones, as files in fixtures/.
import { readFileSync } from 'node:fs';

export function fixture(name: string): Buffer {
  return readFileSync(new URL(`./fixtures/${name}`, import.meta.url));
}

/** A fixture with some elements replaced (a fresh tst, another region). */
export function fixtureWith(name: string, over: Record<string, unknown>): Buffer {
  return Buffer.from(JSON.stringify({ ...(JSON.parse(fixture(name).toString()) as Record<string, unknown>), ...over }));
}
