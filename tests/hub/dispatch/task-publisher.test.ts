// Which way a task message takes, by the device's protocol (decision 013). The broker's publish and
// the gateway's text are the two seams; here they record what they are handed.
import { describe, expect, it } from 'vitest';
import { Metrics } from '../../../common/metrics.js';
import { reachOfProtocol, TaskPublisher, type DeviceTextOutcome } from '../../../hub/dispatch/task-publisher.js';
import type { DeviceProtocol } from '../../../protocol/device-api.js';
import type { TaskMessage } from '../../../protocol/schemas.js';

const offer: TaskMessage = { ts: Date.UTC(2026, 0, 5), kind: 'offer', taskId: 'T1', incidentId: 'I1', category: 'garbage' };
const protocols: Record<string, DeviceProtocol> = { 'hs-1': 'native', 'jt-1': 'jt808', 'ot-1': 'owntracks' };

function publisher(text?: DeviceTextOutcome) {
  const published: string[] = [];
  const texts: [string, string][] = [];
  const metrics = new Metrics();
  const p = new TaskPublisher({
    downstream: { publish: async (topic) => void published.push(topic) },
    topicRoot: 'grid/v1',
    metrics,
    protocolOf: (id) => protocols[id],
    ...(text ? { deviceText: async (id: string, t: string) => (texts.push([id, t]), text) } : {}),
  });
  return { p, published, texts, metrics };
}

describe('task publisher', () => {
  it('native (and unknown) devices: the tasks topic', async () => {
    const { p, published, texts } = publisher('delivered');
    expect(await p.send('hs-1', offer, () => 'unused')).toBe('published');
    expect(await p.send('hs-new', offer, () => 'unused')).toBe('published');
    expect(published).toEqual(['grid/v1/devices/hs-1/tasks', 'grid/v1/devices/hs-new/tasks']);
    expect(texts).toEqual([]);
  });

  it("JT/T 808: the text, answered with the terminal's outcome; nothing on MQTT", async () => {
    const { p, published, texts, metrics } = publisher('no_reply');
    expect(p.reach('jt-1')).toBe('text');
    expect(await p.send('jt-1', offer, () => '【新任务】…')).toBe('no_reply');
    expect(texts).toEqual([['jt-1', '【新任务】…']]);
    expect(published).toEqual([]);
    expect(metrics.render()).toContain('dispatch_task_messages_total{kind="offer",outcome="no_reply",via="text"} 1');
  });

  it('OwnTracks, and JT/T 808 with no text link: nothing can reach them', async () => {
    const { p, published, texts } = publisher();
    expect(p.reach('jt-1')).toBe('call');
    expect(await p.send('jt-1', offer, () => 'x')).toBe('no_channel');
    expect(await p.send('ot-1', offer, () => 'x')).toBe('no_channel');
    expect([published, texts]).toEqual([[], []]);
    expect(reachOfProtocol('owntracks', true)).toBe('call');
    expect(reachOfProtocol(undefined, true)).toBe('device');
  });
});
