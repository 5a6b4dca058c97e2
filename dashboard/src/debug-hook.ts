// A small read-only window into the screen for browser tests and for a person at the console:
// `window.__gridDashboard.frameStats()`. It reads state, it never changes it.
import type { FrameStats } from './frame-stats.js';

export interface GridDashboardDebug {
  /** Worker dots on the map (workers with a known position, any state). */
  workerCount(): number;
  /** Workers online according to the hub (the header counter). */
  onlineCount(): number;
  /** Where a worker's dot is drawn right now, mid-glide included. */
  markerPosition(workerId: string): { lat: number; lon: number } | null;
  workerIds(): string[];
  /** Vertices in a worker's trail (the last ~5 minutes, at most 60). */
  trailSize(workerId: string): number;
  /** Grid polygons drawn. */
  gridCount(): number;
  /** Entries in the alert feed. */
  alertCount(): number;
  /** Snapshots received (1 after start, more after reconnects and resyncs). */
  snapshotCount(): number;
  connected(): boolean;
  frameStats(): FrameStats;
}

declare global {
  interface Window {
    __gridDashboard?: Readonly<GridDashboardDebug>;
  }
}

export function installDebugHook(hook: GridDashboardDebug): void {
  Object.defineProperty(window, '__gridDashboard', { value: Object.freeze({ ...hook }), writable: false, configurable: false });
}
