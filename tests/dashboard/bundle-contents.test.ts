// The screen takes the contract's words at run time (region levels from protocol/region-levels.ts),
// and those files also declare their zod enums. The enums are marked pure so the bundle leaves zod
// out (about 450 kB); this fails if a protocol file the screen imports stops letting it.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { buildDashboard } from '../../dashboard/build.js';

let dir = '';
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('bundles the region levels of the contract but no zod', async () => {
  dir = await mkdtemp(join(tmpdir(), 'dashboard-bundle-'));
  const js = await readFile(join(await buildDashboard({ outDir: dir }), 'app.js'), 'utf8');
  // Booleans, not the bundle: a failure should not print 600 kB of minified script.
  expect(js.includes('"community","grid"'), 'the levels are in the bundle').toBe(true);
  expect(/ZodError|\$ZodType/.test(js), 'zod is in the bundle').toBe(false);
}, 60_000);
