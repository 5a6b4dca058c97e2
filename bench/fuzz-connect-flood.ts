// Issue 16, item 4: sockets that each send an unfinished CONNECT. Measures the broker's RSS (the
// real system in its own process) before, at the peak and after, and how many the broker closed:
//   npx tsx bench/fuzz-connect-flood.ts [--sockets 200] [--bytes 1040000] [--hold-ms 3000] [--hosts 1]
// --hosts k spreads the sockets over 127.0.0.2 … 127.0.0.(k+1) (the per-address cap is 256).
import { parseArgs } from 'node:util';
import { startSystemProcess } from '../testkit/hostile/system-process.js';
import { unfinishedConnects } from '../testkit/hostile/hostile-sockets.js';

const { values: args } = parseArgs({
  options: {
    sockets: { type: 'string', default: '200' },
    bytes: { type: 'string', default: '1040000' },
    'hold-ms': { type: 'string', default: '3000' },
    hosts: { type: 'string', default: '1' },
  },
});
const MB = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MB`;
const sys = await startSystemProcess();
try {
  const before = await sys.memory({ gc: true, resetPeak: true });
  const t0 = Date.now();
  const sockets = await unfinishedConnects(sys.port, Number(args.sockets), Number(args.bytes), Number(args.hosts));
  const sentMs = Date.now() - t0;
  // Held open: the broker either buffers them (the bug) or has already closed them.
  await new Promise((r) => setTimeout(r, Number(args['hold-ms'])));
  const during = await sys.memory();
  const closedByServer = sockets.filter((s) => s.socket.destroyed || s.socket.readableEnded).length;
  const attempted = sockets.reduce((n, s) => n + s.written(), 0);
  const { metrics } = await sys.metrics();
  for (const s of sockets) s.socket.destroy();
  await Promise.all(sockets.map((s) => s.closed));
  // The broker's side of each socket closes a moment later.
  while ((await sys.metrics()).metrics.mqtt_unauthenticated_connections! > 0) await new Promise((r) => setTimeout(r, 100));
  const after = await sys.memory({ gc: true });
  console.log(
    JSON.stringify({
      sockets: sockets.length,
      bytesEach: Number(args.bytes),
      attemptedMB: +(attempted / 1e6).toFixed(1),
      sentMs,
      closedByServer,
      rssBefore: MB(before.rss),
      rssPeak: MB(during.peak),
      rssHeld: MB(during.rss),
      rssAfter: MB(after.rss),
      heapAndBuffers: {
        before: MB(before.heapUsed + before.external),
        held: MB(during.heapUsed + during.external),
        after: MB(after.heapUsed + after.external),
      },
      rejected: Object.fromEntries(
        Object.entries(metrics).filter(([k]) => k.startsWith('mqtt_rejected_total') || k.startsWith('mqtt_connections_refused')),
      ),
    }),
  );
} finally {
  await sys.stop();
}
