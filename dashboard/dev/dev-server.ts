// DEV TOOL, not a test: serves dashboard/dist, a fake /api/regions and /api/config, and a
// Socket.IO `/live` namespace that speaks the protocol's events, so the screen can be worked on
// (and its frame time measured at 3,400 workers) without the hub.
//
//   npx tsx dashboard/dev/dev-server.ts --workers 3400 --side 54 --port 5173
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Server } from 'socket.io';
import { LIVE_NAMESPACE, type ClientToServerEvents, type PositionUpdate, type ServerToClientEvents } from '../../protocol/socket-events.js';
import { buildDashboard } from '../build.js';
import { FakeDistrict } from './fake-district.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.png': 'image/png',
  '.txt': 'text/plain; charset=utf-8',
};

export interface DevServerOptions {
  port: number;
  workers: number;
  side: number;
  fixEveryS: number;
  alertEveryS: number;
  pushMs: number;
  tileUrl: string | null;
  seed: number;
  /** Worker speed, m/s (1.3 walks; 20 drives, for stress). */
  speed: number;
  /**
   * Minutes of history a new screen gets right after its snapshot (one push per 15 s of it), so
   * the frame cost can be measured with full 30-minute trails without waiting half an hour.
   */
  historyMin?: number;
}

export async function startDevServer(o: DevServerOptions): Promise<{ url: string; stop(): Promise<void> }> {
  const dist = await buildDashboard();
  const district = new FakeDistrict({ seed: o.seed, side: o.side, workers: o.workers, center: [27.865, 113.16], speed: o.speed });
  const alerts: ReturnType<FakeDistrict['alert']>[] = [];

  const http = createServer((req, res) => void route(req, res));
  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/api/regions') return json(res, district.regions);
    if (path === '/api/config') return json(res, { tileUrl: o.tileUrl });
    const file = normalize(join(dist, path === '/' ? 'index.html' : path));
    if (!file.startsWith(dist)) return void res.writeHead(403).end();
    const st = await stat(file).catch(() => null);
    if (!st?.isFile()) return void res.writeHead(404).end('not found');
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-cache' });
    createReadStream(file).pipe(res);
  }

  // History: the district as it was `historyMin` ago, then its moves in 15-s steps up to now.
  const history: PositionUpdate[][] = [];
  let past: ReturnType<FakeDistrict['snapshotWorkers']> | null = null;
  if ((o.historyMin ?? 0) > 0) {
    const t0 = Date.now() - o.historyMin! * 60_000;
    past = district.snapshotWorkers().map((w) => ({ ...w, ts: w.ts === null ? null : t0 }));
    for (let t = t0 + 15_000; t <= Date.now(); t += 15_000) history.push(district.step(15, t));
  }

  const io = new Server<ClientToServerEvents, ServerToClientEvents>(http, { maxHttpBufferSize: 1e8 });
  const live = io.of(LIVE_NAMESPACE);
  const snapshot = () => ({
    serverTime: Date.now(),
    workers: district.snapshotWorkers(),
    alerts: alerts.slice(-50),
    incidents: [],
    alarms: [],
  });
  live.on('connection', (socket) => {
    if (past) {
      socket.emit('snapshot', { ...snapshot(), workers: past });
      for (const items of history) socket.emit('positions', { serverTime: Date.now(), items });
    } else {
      socket.emit('snapshot', snapshot());
    }
    socket.on('resync', () => socket.emit('snapshot', snapshot()));
  });

  // Each worker reports every fixEveryS; the hub coalesces into one push every pushMs.
  const ids = district.snapshotWorkers().map((w) => w.workerId);
  const pending = new Map<string, PositionUpdate>();
  let cursor = 0;
  const perPush = Math.max(1, Math.round((ids.length * o.pushMs) / (o.fixEveryS * 1000)));
  const timers = [
    setInterval(() => {
      const due = new Set<string>();
      for (let k = 0; k < perPush; k++) due.add(ids[(cursor + k) % ids.length]!);
      cursor = (cursor + perPush) % Math.max(1, ids.length);
      for (const p of district.step(o.fixEveryS, Date.now(), due)) pending.set(p.workerId, p);
      if (pending.size === 0) return;
      live.emit('positions', { serverTime: Date.now(), items: [...pending.values()] });
      pending.clear();
    }, o.pushMs),
    setInterval(() => {
      const p = district.togglePresence(Date.now());
      if (p) live.emit('presence', p);
    }, 4000),
    setInterval(() => {
      const d = district.toggleDuty(Date.now());
      if (d) live.emit('duty', d);
    }, 7000),
    setInterval(() => {
      const a = district.alert(Date.now());
      alerts.push(a);
      if (alerts.length > 500) alerts.shift();
      live.emit('alert', a);
    }, o.alertEveryS * 1000),
  ];

  await new Promise<void>((resolve) => http.listen(o.port, '127.0.0.1', resolve));
  const addr = http.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : o.port;
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      for (const t of timers) clearInterval(t);
      await io.close(); // closes the http server too
    },
  };
}

function json(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '5173' },
      workers: { type: 'string', default: '300' },
      side: { type: 'string', default: '27' },
      'fix-every': { type: 'string', default: '1' },
      'alert-every': { type: 'string', default: '3' },
      'push-ms': { type: 'string', default: '100' },
      tiles: { type: 'string' },
      seed: { type: 'string', default: '7' },
      speed: { type: 'string', default: '1.3' },
      'history-min': { type: 'string', default: '0' },
    },
  });
  const server = await startDevServer({
    port: Number(values.port),
    workers: Number(values.workers),
    side: Number(values.side),
    fixEveryS: Number(values['fix-every']),
    alertEveryS: Number(values['alert-every']),
    pushMs: Number(values['push-ms']),
    tileUrl: values.tiles ?? null,
    seed: Number(values.seed),
    speed: Number(values.speed),
    historyMin: Number(values['history-min']),
  });
  console.log(`dev command screen (fake data): ${server.url}`);
  process.on('SIGINT', () => void server.stop().then(() => process.exit(0)));
}
