// Which committed fix may move a worker's dot (issue 16 item 1): a newer valid one only; never an
// older one, a flagged one, or one from the future. And how a fast handset clock shows.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../common/clock.js';
import { LiveState } from '../../../hub/live/live-state.js';
import { emptyRows, type PositionRow, type Rows } from '../../../hub/rows/row-types.js';

const NOW = Date.parse('2026-12-03T08:00:00Z');

function stateWithWorker(clock: ManualClock): LiveState {
  const live = new LiveState(() => clock.now());
  live.workers.set('w-1', {
    workerId: 'w-1',
    deviceId: 'hs-1',
    name: '张三',
    role: 'grid_worker',
    gridCode: 'G1',
    lat: null,
    lon: null,
    ts: null,
    battery: null,
    duty: 'on',
    online: true,
  });
  (live as unknown as { workerByDevice: Map<string, string> }).workerByDevice.set('hs-1', 'w-1');
  return live;
}

function fixes(...over: Partial<PositionRow>[]): Rows {
  const rows = emptyRows();
  for (const o of over)
    rows.positions.push({
      deviceId: 'hs-1',
      workerId: 'w-1',
      ts: NOW,
      lat: 27.87,
      lon: 113.12,
      acc: 5,
      alt: null,
      speed: null,
      heading: null,
      battery: null,
      seq: null,
      ...o,
    });
  return rows;
}

const futureLetter = (aheadMs: number): Rows => ({
  ...emptyRows(),
  deadLetters: [
    {
      topic: 'grid/v1/devices/hs-1/location',
      deviceId: 'hs-1',
      reason: 'future_fix: …',
      size: 2,
      payload: Buffer.from('{}'),
      clockAheadMs: aheadMs,
    },
  ],
});

describe('live positions', () => {
  it('moves a dot to a newer fix only, and never to a flagged one', () => {
    const clock = new ManualClock(NOW);
    const live = stateWithWorker(clock);
    expect(live.apply(fixes({ ts: NOW - 10_000, lat: 27.86 })).positions).toHaveLength(1);
    expect(live.apply(fixes({ ts: NOW - 20_000, lat: 27.5 })).positions).toEqual([]);
    expect(live.apply(fixes({ ts: NOW - 5_000, lat: 29, flags: ['jump'] })).positions).toEqual([]);
    expect(live.apply(fixes({ ts: NOW - 4_000, lat: 27.861, acc: 900, flags: ['accuracy'] })).positions).toEqual([]);
    expect(live.workers.get('w-1')).toMatchObject({ ts: NOW - 10_000, lat: 27.86 });
    // In one commit: the newest valid fix wins, whatever the order of the rows.
    live.apply(fixes({ ts: NOW - 1_000, lat: 27.8601 }, { ts: NOW - 2_000, lat: 27.8602 }, { ts: NOW, lat: 27.9, flags: ['jump'] }));
    expect(live.workers.get('w-1')).toMatchObject({ ts: NOW - 1_000, lat: 27.8601 });
  });

  it('never moves a dot to a fix from the future, so later real fixes still move it', () => {
    const clock = new ManualClock(NOW);
    const live = stateWithWorker(clock);
    live.apply(fixes({ ts: NOW - 10_000 }));
    expect(live.apply(fixes({ ts: Date.parse('2099-01-01T00:00:00Z'), lat: 27.9 })).positions).toEqual([]);
    expect(live.apply(fixes({ ts: NOW + 86_400_000, lat: 27.9 })).positions).toEqual([]);
    clock.advance(1_000);
    expect(live.apply(fixes({ ts: NOW + 500, lat: 27.88 })).positions).toEqual([
      { workerId: 'w-1', lat: 27.88, lon: 113.12, ts: NOW + 500 },
    ]);
  });

  it('shows how far a handset clock runs ahead: refused fixes tell, a live fix on time clears it, a buffered upload says nothing', () => {
    const clock = new ManualClock(NOW);
    const live = stateWithWorker(clock);
    expect(live.workers.get('w-1')!.clockAheadS ?? null).toBeNull();
    live.apply(futureLetter(86_400_000));
    expect(live.snapshot().workers[0]).toHaveProperty('clockAheadS', 86_400);
    live.apply(fixes({ ts: NOW - 3_600_000, clockAheadMs: -3_600_000 }));
    expect(live.workers.get('w-1')).toHaveProperty('clockAheadS', 86_400);
    live.apply(fixes({ ts: NOW + 30_000, clockAheadMs: 30_000 }));
    expect(live.workers.get('w-1')).toHaveProperty('clockAheadS', 30);
    live.apply(fixes({ ts: NOW + 31_000, clockAheadMs: -150 }));
    expect(live.workers.get('w-1')).toHaveProperty('clockAheadS', 0);
  });
});
