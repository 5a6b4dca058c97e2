// A stall of the event loop shows on /metrics and in the log, with the window's figures; a quiet
// window logs no warning.
import { EventEmitter, once } from 'node:events';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { watchEventLoop } from '../../common/event-loop-watch.js';
import { Metrics } from '../../common/metrics.js';

interface LogLine {
  level: number;
  mod: string;
  msg: string;
  maxMs: number;
  p99Ms: number;
  utilization: number;
}

function capture() {
  const lines = new EventEmitter();
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.emit('line', JSON.parse(s) as LogLine) });
  return { logger, next: async () => ((await once(lines, 'line')) as [LogLine])[0] };
}

describe('event loop watch', () => {
  it('reports a stall of the window in the gauges and as a warning, and a quiet window at debug level', async () => {
    const { logger, next } = capture();
    const metrics = new Metrics();
    const watch = watchEventLoop({ metrics, logger, windowMs: 400, warnMs: 150 });
    try {
      // The first window: a debug line, or a warning only if this machine stalled us meanwhile.
      const first = await next();
      expect(first.mod).toBe('event-loop');
      expect(first.level).toBe(first.maxMs >= 150 ? 40 : 20);

      // 250 ms of synchronous work in the middle of the next window (perf_hooks' histogram misses a
      // stall before its first tick after a reset).
      const line = next();
      setTimeout(() => {
        const t = performance.now();
        while (performance.now() - t < 250);
      }, 50);
      const stalled = await line;
      expect(stalled).toMatchObject({ level: 40, mod: 'event-loop' });
      expect(stalled.maxMs).toBeGreaterThanOrEqual(240);
      expect(stalled.utilization).toBeGreaterThan(0.4);
      expect(metrics.snapshot().nodejs_eventloop_delay_max_seconds).toBeGreaterThanOrEqual(0.24);
      expect(watch.last().maxMs).toBe(stalled.maxMs);
    } finally {
      watch.stop();
    }
  });
});
