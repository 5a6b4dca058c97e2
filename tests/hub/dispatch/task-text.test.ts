// The text a JT/T 808 terminal shows and reads aloud for a task message (decision 013).
import { describe, expect, it } from 'vitest';
import { shanghaiTime, taskText } from '../../../hub/dispatch/task-text.js';
import type { TaskMessage } from '../../../protocol/schemas.js';
import { T0 } from './builders.js'; // 2024-09-30 09:00 Asia/Shanghai

const offer = (over: Partial<TaskMessage> = {}): TaskMessage => ({
  ts: T0,
  kind: 'offer',
  taskId: 'T1',
  incidentId: '20240930-7QK2MZ',
  category: 'garbage',
  title: '楼下垃圾三天没清运',
  lat: 27.87,
  lon: 113.11,
  acceptBy: T0 + 180_000,
  ...over,
});
const names = { categoryName: '垃圾清运', placeName: '西社区第一网格' };

describe('task text', () => {
  it('says what, where, by when and which case, and how to answer', () => {
    expect(taskText(offer(), names)).toBe(
      '【新任务】垃圾清运，西社区第一网格，楼下垃圾三天没清运。请于09:03前致电指挥中心确认是否接单。事件号20240930-7QK2MZ',
    );
  });

  it('leaves out a title that only repeats the category, and a place it does not know', () => {
    expect(taskText(offer({ title: 'garbage' }), { categoryName: '垃圾清运', placeName: null })).toBe(
      '【新任务】垃圾清运。请于09:03前致电指挥中心确认是否接单。事件号20240930-7QK2MZ',
    );
  });

  it('keeps a long description short', () => {
    const t = taskText(offer({ title: '很'.repeat(60) }), names);
    expect(t).toContain(`，${'很'.repeat(30)}。`);
    expect(t).not.toContain('很'.repeat(31));
  });

  it('gives cancellations and updates in Chinese only', () => {
    expect(
      taskText(
        { ts: T0, kind: 'cancel', taskId: 'T1', incidentId: 'X', note: '超时未响应，已转派 / no answer in time, offered to someone else' },
        names,
      ),
    ).toBe('【任务撤回】事件号X：超时未响应，已转派。');
    expect(taskText({ ts: T0, kind: 'cancel', taskId: 'T1', incidentId: 'X' }, names)).toBe('【任务撤回】事件号X：任务已撤回。');
    expect(
      taskText({ ts: T0, kind: 'update', taskId: 'T1', incidentId: 'X', note: '指挥中心已为您确认接单 / accepted on your behalf' }, names),
    ).toBe('【任务更新】事件号X：指挥中心已为您确认接单。');
  });

  it('shows times in Asia/Shanghai, with the date when it is another day', () => {
    expect(shanghaiTime(T0, T0)).toBe('09:00');
    expect(shanghaiTime(T0 + 15 * 3600_000 + 5 * 60_000, T0)).toBe('10月1日 00:05');
  });
});
