// When committed positions leave for the screens: at once after a quiet spell, and at most one batch
// per push interval however often commits come (the newest fix per worker). A real Socket.IO server
// and client on an ephemeral port.
import { createServer, type Server as HttpServer } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { io, type Socket } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { Metrics } from '../../../common/metrics.js';
import { silentLogger } from '../../../common/logger.js';
import { LivePush } from '../../../hub/live/live-push.js';
import { LiveState } from '../../../hub/live/live-state.js';
import { LIVE_NAMESPACE, type PositionUpdate } from '../../../protocol/socket-events.js';

const INTERVAL_MS = 1000;
let http: HttpServer;
let push: LivePush;
let screen: Socket;

afterEach(async () => {
  screen?.close();
  await push?.stop();
  http?.close();
});

async function start(): Promise<{ batches: { at: number; items: PositionUpdate[] }[]; next(): Promise<void> }> {
  http = createServer();
  push = new LivePush({ httpServer: http, state: new LiveState(), intervalMs: INTERVAL_MS, metrics: new Metrics(), logger: silentLogger });
  push.start();
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  const { port } = http.address() as AddressInfo;
  screen = io(`http://127.0.0.1:${port}${LIVE_NAMESPACE}`, { transports: ['websocket'] });
  await new Promise<void>((r) => screen.once('snapshot', () => r()));
  const batches: { at: number; items: PositionUpdate[] }[] = [];
  let waiting: (() => void) | null = null;
  screen.on('positions', (b: { items: PositionUpdate[] }) => {
    batches.push({ at: performance.now(), items: b.items });
    waiting?.();
    waiting = null;
  });
  return { batches, next: () => new Promise<void>((r) => (waiting = r)) };
}

const fix = (workerId: string, ts: number): PositionUpdate => ({ workerId, lat: 27.8, lon: 113.1, ts });
const commit = (...positions: PositionUpdate[]) => push.publish({ positions, presence: [], duty: [], alerts: [] });

describe('live push pacing', () => {
  it('sends a commit after a quiet spell at once, then at most one batch per interval with the newest fix per worker', async () => {
    const { batches, next } = await start();
    let arrived = next();
    const t0 = performance.now();
    commit(fix('w-1', 1));
    await arrived;
    // No timer to wait for: a free-running interval timer made this half an interval on average.
    expect(batches[0]!.at - t0).toBeLessThan(INTERVAL_MS / 2);
    expect(batches[0]!.items).toEqual([fix('w-1', 1)]);

    // Three commits right after: one batch, when the interval is up, newest per worker.
    arrived = next();
    commit(fix('w-1', 2), fix('w-2', 2));
    commit(fix('w-1', 3));
    commit(fix('w-2', 4));
    await arrived;
    expect(batches).toHaveLength(2);
    expect(batches[1]!.at - batches[0]!.at).toBeGreaterThanOrEqual(INTERVAL_MS - 50);
    expect(batches[1]!.items.sort((a, b) => a.workerId.localeCompare(b.workerId))).toEqual([fix('w-1', 3), fix('w-2', 4)]);

    // A quiet spell longer than the interval, then a commit: out at once again. (A free-running
    // timer that flushed with the last batch would tick 0.8 interval after this commit.)
    await new Promise((r) => setTimeout(r, INTERVAL_MS * 1.2));
    arrived = next();
    const t2 = performance.now();
    commit(fix('w-1', 5));
    await arrived;
    expect(batches[2]!.at - t2).toBeLessThan(INTERVAL_MS / 2);
  });

  it('sends nothing when no commit brought positions', async () => {
    const { batches } = await start();
    push.publish({ positions: [], presence: [], duty: [], alerts: [] });
    // The screen would have had an empty batch by now if one were sent on every commit.
    await new Promise<void>((r) => screen.emit('resync') && screen.once('snapshot', () => r()));
    expect(batches).toEqual([]);
  });
});
