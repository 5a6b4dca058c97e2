// Duty from the API and from handsets: the newest wins, whichever way it came (issue 3 item 2).
import { describe, expect, it } from 'vitest';
import { LiveState } from '../../../hub/live/live-state.js';
import { emptyRows } from '../../../hub/rows/row-types.js';

function stateWithWorker(): LiveState {
  const live = new LiveState(() => 0);
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

const status = (ts: number, duty: 'on' | 'off') => {
  const rows = emptyRows();
  rows.statuses.push({ deviceId: 'hs-1', workerId: 'w-1', ts, kind: 'status', duty, battery: null, online: null });
  return rows;
};

describe('live duty', () => {
  it("an operator's change is not undone by an older buffered handset status, but a newer one wins", () => {
    const live = stateWithWorker();
    expect(live.setDuty('w-1', 'off', 2000)).toEqual({ workerId: 'w-1', duty: 'off', ts: 2000 });
    expect(live.apply(status(1500, 'on')).duty).toEqual([]);
    expect(live.workers.get('w-1')?.duty).toBe('off');
    expect(live.apply(status(2500, 'on')).duty).toEqual([{ workerId: 'w-1', duty: 'on', ts: 2500 }]);
    expect(live.setDuty('w-1', 'off', 2400)).toBeNull();
    expect(live.workers.get('w-1')?.duty).toBe('on');
  });
});
