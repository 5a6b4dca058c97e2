// The real system (embedded database in memory, broker on port 0, hub) in its own process, so a
// hostile run can measure the broker's memory apart from the attacker's and force a collection:
//   node --expose-gc --import tsx testkit/hostile/system-child.ts
// Talks over IPC (system-process.ts is the other end): `ready` with the MQTT port and a registered
// handset, then answers `mem`, `metrics` and `rows` requests.
import { startTestSystem } from '../test-system.js';
import { registerDevices } from '../builders.js';
import type { ChildReply, ChildRequest } from './system-process.js';

const sys = await startTestSystem();
const devices = await registerDevices(sys.db.pool, ['fz']);
await sys.hub.reloadRegistry();
const device = devices['hs-fz']!;

// Peak RSS between two `mem` requests with reset: sampled, so a spike shorter than 50 ms may pass.
let peak = process.memoryUsage.rss();
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 50);
sampler.unref();

function send(m: ChildReply): void {
  process.send?.(m);
}

process.on('message', (m: ChildRequest) => {
  void (async () => {
    if (m.cmd === 'mem') {
      if (m.gc) {
        // Twice: the first pass finalises what the second frees (sockets' native handles).
        for (let i = 0; i < 2; i++) {
          (globalThis as { gc?: () => void }).gc?.();
          await new Promise((r) => setImmediate(r));
        }
      }
      const u = process.memoryUsage();
      send({
        id: m.id,
        rss: u.rss,
        heapUsed: u.heapUsed,
        external: u.external,
        peak,
        gcAvailable: typeof (globalThis as { gc?: unknown }).gc === 'function',
      });
      if (m.resetPeak) peak = u.rss;
    } else if (m.cmd === 'metrics') {
      send({ id: m.id, metrics: sys.metrics.snapshot(), connected: sys.broker.aedes.connectedClients });
    } else if (m.cmd === 'rows') {
      const r = await sys.db.pool.query(`SELECT count(*)::int AS n FROM positions WHERE device_id = $1`, [m.deviceId]);
      send({ id: m.id, rows: (r.rows[0] as { n: number }).n });
    } else if (m.cmd === 'stop') {
      await sys.stop();
      send({ id: m.id });
      process.exit(0);
    }
  })().catch((err: Error) => send({ id: m.id, error: err.message }));
});

// The fuzzer logs in as the door and the camera, never as the handset whose fixes must keep flowing.
const fuzzDevices = [devices['door-fz']!, devices['cam-fz']!].map((d) => ({ id: d.id, secret: d.secret }));
send({ ready: true, port: sys.broker.port, device: { id: device.id, secret: device.secret }, fuzzDevices });
