// Frame timing for the "3,400 dots updating every second stay fluid" goal: the gap between
// animation frames (what the viewer feels) and the time our per-frame work takes (what we cost).
// Read by tests and by a human through window.__gridDashboard.frameStats().

const WINDOW = 300; // frames, about 5 s at 60 Hz

export interface FrameStats {
  frames: number;
  meanFrameMs: number;
  p95FrameMs: number;
  maxFrameMs: number;
  meanWorkMs: number;
  p95WorkMs: number;
  /** Our share of the work: moving dots, before Leaflet repaints. */
  meanTickMs: number;
  /** Dots moved in the last frame. */
  lastMoved: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
}

const round = (x: number): number => Math.round(x * 100) / 100;

export class FrameMeter {
  private readonly gaps: number[] = [];
  private readonly work: number[] = [];
  private readonly ticks: number[] = [];
  private last: number | null = null;
  private total = 0;
  private moved = 0;

  /** Once per animation frame: the frame's timestamp, total work, our tick's part, dots moved. */
  record(frameTs: number, workMs: number, tickMs: number, moved: number): void {
    if (this.last !== null) push(this.gaps, frameTs - this.last);
    this.last = frameTs;
    push(this.work, workMs);
    push(this.ticks, tickMs);
    this.total++;
    this.moved = moved;
  }

  /** A hidden tab stops frames; the first gap after it is not a stutter. */
  pause(): void {
    this.last = null;
  }

  stats(): FrameStats {
    const gaps = [...this.gaps].sort((a, b) => a - b);
    const work = [...this.work].sort((a, b) => a - b);
    const mean = (xs: number[]): number => (xs.length === 0 ? 0 : xs.reduce((s, x) => s + x, 0) / xs.length);
    return {
      frames: this.total,
      meanFrameMs: round(mean(gaps)),
      p95FrameMs: round(percentile(gaps, 0.95)),
      maxFrameMs: round(gaps[gaps.length - 1] ?? 0),
      meanWorkMs: round(mean(work)),
      p95WorkMs: round(percentile(work, 0.95)),
      meanTickMs: round(mean(this.ticks)),
      lastMoved: this.moved,
    };
  }
}

function push(xs: number[], x: number): void {
  xs.push(x);
  if (xs.length > WINDOW) xs.shift();
}
