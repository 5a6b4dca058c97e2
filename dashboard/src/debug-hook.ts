// A small read-only window into the screen for browser tests and for a person at the console:
// `window.__gridDashboard.frameStats()`. It reads state, it never changes it.
import type { KpiTiles } from './api-client.js';
import type { FrameStats } from './frame-stats.js';
import type { DotState } from './worker-layer.js';

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
  /** patrolling | onTask | idle | offDuty | offline, or null for an unknown worker. */
  workerState(workerId: string): DotState | null;
  /** Page coordinates (CSS px) of a worker's dot, for clicking it in tests. */
  workerPixel(workerId: string): { x: number; y: number } | null;
  /** Grid polygons drawn. */
  gridCount(): number;
  /** Codes of the regions drawn (the user's scope and below). */
  regionCodes(): string[];
  /** Page coordinates of a region's centre. */
  regionPixel(code: string): { x: number; y: number } | null;
  /** The region the drill-down shows now. */
  focusedRegion(): string | null;
  /** Incidents on the board (open, plus closed ones seen since the last snapshot). */
  incidentIds(): string[];
  incidentMarkerCount(): number;
  /** Alarms raised and not yet acknowledged. */
  alarmCount(): number;
  /** Chimes played (or attempted while the browser holds audio back). */
  chimeCount(): number;
  replay(): {
    points: number;
    stops: number;
    outsidePoints: number;
    time: number;
    playing: boolean;
    head: { lat: number; lon: number } | null;
  };
  kpis(): { status: string; polls: number; data: KpiTiles | null };
  /** The signed-in user (never a token), or null with auth off. */
  user(): { username: string; role: string; scope: string } | null;
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
