// DEV TOOL, not a test: opens the screen in headless Chromium at 1920x1080 against the dev
// server with many workers and prints the frame statistics the page measures itself.
//
//   npx tsx dashboard/dev/measure-frames.ts --workers 3400 --seconds 15 [--speed 20] [--zoom-in 3] [--history-min 30] [--push-ms 250] [--shot x.png]
import { parseArgs } from 'node:util';
import { launchChromium } from '../../testkit/chromium.js';
import { startDevServer } from './dev-server.js';

const { values } = parseArgs({
  options: {
    workers: { type: 'string', default: '3400' },
    side: { type: 'string', default: '54' },
    seconds: { type: 'string', default: '15' },
    'fix-every': { type: 'string', default: '1' },
    shot: { type: 'string' },
    speed: { type: 'string', default: '1.3' },
    'zoom-in': { type: 'string', default: '0' },
    // Full trails from the start: every screen first gets this many minutes of 15-s moves.
    'history-min': { type: 'string', default: '0' },
    // The hub's PUSH_INTERVAL_MS: how often a screen gets its coalesced positions.
    'push-ms': { type: 'string', default: '100' },
  },
});
const workers = Number(values.workers);
const server = await startDevServer({
  port: 0,
  workers,
  side: Number(values.side),
  fixEveryS: Number(values['fix-every']),
  alertEveryS: 3,
  pushMs: Number(values['push-ms']),
  tileUrl: null,
  seed: 7,
  speed: Number(values.speed),
  historyMin: Number(values['history-min']),
});
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(server.url);
  const dots = Math.round(workers * 0.95 * 0.9); // most workers have a dot; wait for nearly all
  await page.waitForFunction((n) => (window.__gridDashboard?.workerCount() ?? 0) >= n, dots, { timeout: 60_000 });
  // Wheel-zoom towards the centre, where motion shows and the glide really has to run.
  for (let i = 0; i < Number(values['zoom-in']); i++) {
    await page.mouse.move(760, 560);
    await page.mouse.wheel(0, -120);
    await page.waitForTimeout(400);
  }
  await page.waitForTimeout(Number(values.seconds) * 1000); // a measurement window, not a sync point
  const stats = await page.evaluate(() => window.__gridDashboard?.frameStats());
  const count = await page.evaluate(() => window.__gridDashboard?.workerCount());
  console.log(JSON.stringify({ workers, dots: count, ...stats }, null, 2));
  if (values.shot) await page.screenshot({ path: values.shot });
} finally {
  await browser.close();
  await server.stop();
}
