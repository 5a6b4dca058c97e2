// Trail replay (issue 4, item 3): pick a worker and a day (Shanghai calendar), draw that day's
// trail (downsampled by the hub, GET /api/workers/:id/trail), and replay it at 1x to 60x with a
// time slider. Stops are ringed with their duration; stretches outside the worker's own grids
// are drawn dashed in magenta.
import * as L from 'leaflet';
import type { WorkerLive } from '../../protocol/socket-events.js';
import { fetchTrail, type DayTrail } from './api-client.js';
import { escapeHtml } from './html.js';
import { formatClock, formatDuration, shanghaiDay, t } from './i18n.js';
import { positionAt, shanghaiDayRange, trailRuns } from './replay-math.js';

export const REPLAY_SPEEDS = [1, 5, 10, 30, 60] as const;

export class TrailReplay {
  private readonly group: L.LayerGroup;
  private marker: L.CircleMarker | null = null;
  private trail: DayTrail | null = null;
  private time = 0;
  private speed: number = 10;
  private playing = false;
  private lastFrame = 0;
  private readonly els: {
    worker: HTMLSelectElement;
    day: HTMLInputElement;
    load: HTMLButtonElement;
    summary: HTMLElement;
    play: HTMLButtonElement;
    speed: HTMLSelectElement;
    slider: HTMLInputElement;
    clock: HTMLElement;
    clear: HTMLButtonElement;
  };

  constructor(
    private readonly map: L.Map,
    root: HTMLElement,
    private readonly workers: () => WorkerLive[],
  ) {
    map.createPane('replay').style.zIndex = '450';
    this.group = L.layerGroup().addTo(map);
    const q = <T extends HTMLElement>(sel: string): T => root.querySelector<T>(sel) as T;
    this.els = {
      worker: q('[name="replay-worker"]'),
      day: q('[name="replay-day"]'),
      load: q('[data-action="replay-load"]'),
      summary: q('.replay-summary'),
      play: q('[data-action="replay-play"]'),
      speed: q('[name="replay-speed"]'),
      slider: q('[name="replay-time"]'),
      clock: q('.replay-clock'),
      clear: q('[data-action="replay-clear"]'),
    };
    this.els.day.value = shanghaiDay(Date.now());
    this.els.speed.innerHTML = REPLAY_SPEEDS.map((s) => `<option value="${s}"${s === this.speed ? ' selected' : ''}>${s}x</option>`).join(
      '',
    );
    this.els.load.addEventListener('click', () => void this.load(this.els.worker.value, this.els.day.value));
    this.els.play.addEventListener('click', () => (this.playing ? this.pause() : this.play()));
    this.els.speed.addEventListener('change', () => (this.speed = Number(this.els.speed.value) || 1));
    this.els.slider.addEventListener('input', () => this.seek(Number(this.els.slider.value)));
    this.els.clear.addEventListener('click', () => this.clear());
    this.controls(false);
  }

  /** Fills the worker picker (names sorted, the current choice kept). */
  refreshWorkers(): void {
    const keep = this.els.worker.value;
    const list = [...this.workers()].sort((a, b) => a.name.localeCompare(b.name, 'zh-CN'));
    this.els.worker.innerHTML = list
      .map((w) => `<option value="${escapeHtml(w.workerId)}">${escapeHtml(w.name)} · ${escapeHtml(w.workerId)}</option>`)
      .join('');
    if (keep) this.els.worker.value = keep;
  }

  async load(workerId: string, day: string): Promise<void> {
    if (!workerId || !/^\d{4}-\d{2}-\d{2}$/.test(day)) return;
    this.refreshWorkers();
    this.els.worker.value = workerId;
    this.els.day.value = day;
    this.clear();
    this.els.summary.textContent = t('loading');
    const { from, to } = shanghaiDayRange(day);
    try {
      this.trail = await fetchTrail(workerId, from, to);
    } catch (err) {
      this.els.summary.textContent = `${t('loadFailed')}: ${err instanceof Error ? err.message : String(err)}`;
      return;
    }
    this.draw();
  }

  private draw(): void {
    const tr = this.trail;
    if (!tr || tr.points.length === 0) {
      this.els.summary.textContent = t('replayEmpty');
      return;
    }
    for (const run of trailRuns(tr.points)) {
      L.polyline(run.latlngs, {
        pane: 'replay',
        className: run.outside ? 'replay-line outside' : 'replay-line',
        color: run.outside ? '#ff4fa3' : '#e6f0fb',
        weight: run.outside ? 4 : 3,
        opacity: 0.9,
        ...(run.outside ? { dashArray: '8 6' } : {}),
        interactive: false,
      }).addTo(this.group);
    }
    for (const s of tr.stops) {
      L.circleMarker([s.lat, s.lon], {
        pane: 'replay',
        className: 'replay-stop',
        radius: Math.min(16, 6 + Math.sqrt(s.durationS / 60)),
        color: '#7cc4ff',
        weight: 2,
        fillColor: '#7cc4ff',
        fillOpacity: 0.2,
      })
        .bindTooltip(`${t('replayStops')} ${formatDuration(s.durationS * 1000)} · ${formatClock(s.start)}–${formatClock(s.end)}`)
        .addTo(this.group);
    }
    const first = tr.points[0]!;
    const last = tr.points[tr.points.length - 1]!;
    this.marker = L.circleMarker([first.lat, first.lon], {
      pane: 'replay',
      className: 'replay-head',
      radius: 8,
      color: '#ffffff',
      weight: 3,
      fillColor: '#ff3b30',
      fillOpacity: 1,
    }).addTo(this.group);
    this.map.fitBounds(L.latLngBounds(tr.points.map((p) => [p.lat, p.lon] as [number, number])), { padding: [40, 40] });
    this.els.slider.min = String(first.ts);
    this.els.slider.max = String(last.ts);
    this.els.slider.step = '1000';
    const outside = tr.points.filter((p) => p.outside).length;
    this.els.summary.innerHTML = [
      `${escapeHtml(t('replayFixes'))} <b>${tr.fixes}</b>`,
      `${escapeHtml(t('replayDistance'))} <b>${(tr.distanceM / 1000).toFixed(2)} km</b>`,
      `${escapeHtml(t('replayStops'))} <b class="stop-count">${tr.stops.length}</b>`,
      `${escapeHtml(t('replayOutside'))} <b class="outside-count">${outside}</b>`,
    ].join(' · ');
    this.controls(true);
    this.seek(first.ts);
  }

  play(): void {
    if (!this.trail || this.trail.points.length === 0) return;
    const end = this.trail.points[this.trail.points.length - 1]!.ts;
    if (this.time >= end) this.seek(this.trail.points[0]!.ts);
    this.playing = true;
    this.els.play.textContent = t('pause');
    this.lastFrame = performance.now();
    const step = (now: number): void => {
      if (!this.playing) return;
      this.seek(this.time + (now - this.lastFrame) * this.speed);
      this.lastFrame = now;
      if (this.time >= end) return this.pause();
      requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
  }

  pause(): void {
    this.playing = false;
    this.els.play.textContent = t('play');
  }

  seek(ts: number): void {
    if (!this.trail) return;
    this.time = ts;
    const at = positionAt(this.trail.points, ts);
    if (at) this.marker?.setLatLng([at.lat, at.lon]);
    this.els.slider.value = String(Math.round(ts));
    this.els.clock.textContent = formatClock(ts);
  }

  clear(): void {
    this.pause();
    this.group.clearLayers();
    this.marker = null;
    this.trail = null;
    this.els.summary.textContent = '';
    this.els.clock.textContent = '';
    this.controls(false);
  }

  private controls(on: boolean): void {
    this.els.play.disabled = !on;
    this.els.slider.disabled = !on;
    this.els.clear.disabled = !on;
  }

  /** For the debug hook: what is drawn and where the replay head is. */
  status(): {
    points: number;
    stops: number;
    outsidePoints: number;
    time: number;
    playing: boolean;
    head: { lat: number; lon: number } | null;
  } {
    const ll = this.marker?.getLatLng();
    return {
      points: this.trail?.points.length ?? 0,
      stops: this.trail?.stops.length ?? 0,
      outsidePoints: this.trail?.points.filter((p) => p.outside).length ?? 0,
      time: this.time,
      playing: this.playing,
      head: ll ? { lat: ll.lat, lon: ll.lng } : null,
    };
  }

  setSpeed(speed: number): void {
    this.speed = speed;
    this.els.speed.value = String(speed);
  }
}
