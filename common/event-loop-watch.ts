// How long this process's event loop was held up, per window: gauges on /metrics, and a warning
// when a window held a stall that users see (screens frozen, PUBACKs late, connects timing out),
// with the garbage collector's share so the log says whether to look at memory or at code.
import { type EventLoopUtilization, monitorEventLoopDelay, PerformanceObserver, performance } from 'node:perf_hooks';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';

export interface EventLoopWindow {
  /** Delay percentiles of the window, ms (how late a timer due now would fire). */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Share of the window the loop was busy (0..1). */
  utilization: number;
  /** Garbage collection in the window: total and longest pause, ms. */
  gcMs: number;
  gcMaxMs: number;
}

export interface EventLoopWatch {
  /** The last whole window (zeros before the first ends). */
  last(): EventLoopWindow;
  stop(): void;
}

export function watchEventLoop(opts: {
  metrics: Metrics;
  logger: Logger;
  windowMs?: number;
  /** A window whose longest delay reaches this is logged as a warning. */
  warnMs?: number;
}): EventLoopWatch {
  const windowMs = opts.windowMs ?? 10_000;
  const warnMs = opts.warnMs ?? 1000;
  const log = opts.logger.child({ mod: 'event-loop' });
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  let gcMs = 0;
  let gcMaxMs = 0;
  const gc = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcMs += e.duration;
      if (e.duration > gcMaxMs) gcMaxMs = e.duration;
    }
  });
  gc.observe({ entryTypes: ['gc'] });
  let elu: EventLoopUtilization = performance.eventLoopUtilization();
  let last: EventLoopWindow = { p50Ms: 0, p99Ms: 0, maxMs: 0, utilization: 0, gcMs: 0, gcMaxMs: 0 };
  const ms = (ns: number) => Math.round(ns / 1e5) / 10;

  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    last = {
      p50Ms: ms(delay.percentile(50)),
      p99Ms: ms(delay.percentile(99)),
      maxMs: ms(delay.max),
      utilization: Math.round(performance.eventLoopUtilization(now, elu).utilization * 100) / 100,
      gcMs: Math.round(gcMs),
      gcMaxMs: Math.round(gcMaxMs),
    };
    elu = now;
    delay.reset();
    gcMs = 0;
    gcMaxMs = 0;
    if (last.maxMs >= warnMs) log.warn(last, 'event loop held up: screens and acknowledgements were late in this window');
    else log.debug(last, 'event loop');
  }, windowMs);
  timer.unref();

  opts.metrics.gauge(
    'nodejs_eventloop_delay_p99_seconds',
    () => last.p99Ms / 1000,
    `event loop delay p99 over the last ${windowMs / 1000} s`,
  );
  opts.metrics.gauge(
    'nodejs_eventloop_delay_max_seconds',
    () => last.maxMs / 1000,
    `longest event loop delay in the last ${windowMs / 1000} s`,
  );
  opts.metrics.gauge(
    'nodejs_eventloop_utilization',
    () => last.utilization,
    `share of the last ${windowMs / 1000} s the event loop was busy`,
  );
  opts.metrics.gauge(
    'nodejs_gc_pause_seconds_window',
    () => last.gcMs / 1000,
    `garbage collection pauses in the last ${windowMs / 1000} s`,
  );

  return {
    last: () => last,
    stop() {
      clearInterval(timer);
      delay.disable();
      gc.disconnect();
    },
  };
}
