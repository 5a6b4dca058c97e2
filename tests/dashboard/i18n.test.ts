// Strings and clocks of the command screen: the alert types read in Chinese (and English), and
// times are on the Shanghai wall clock whatever zone the browser runs in (STYLE.md: show
// Asia/Shanghai).
import { describe, expect, it } from 'vitest';
import { alertTypeLabel, formatClock, severityLabel, shanghaiDay, t } from '../../dashboard/src/i18n.js';

describe('alert types', () => {
  it.each([
    ['door.forced', '强行开门'],
    ['door.held_open', '门未关'],
    ['door.stranger', '陌生人'],
    ['door.tailgating', '尾随'],
    ['door.tamper', '设备被破坏'],
    ['camera.intrusion', '入侵'],
    ['camera.smoke', '烟雾'],
    ['camera.fire', '火情'],
    ['camera.crowd', '人员聚集'],
    ['camera.fall', '跌倒'],
    ['camera.garbage', '垃圾堆放'],
    ['camera.parking', '违停'],
  ])('%s reads %s', (type, zh) => {
    expect(alertTypeLabel(type, 'zh')).toBe(zh);
    expect(alertTypeLabel(type, 'en')).toMatch(/^[A-Z][a-z ]+$/);
  });

  it('shows a type it does not know as sent (new firmware is not hidden)', () => {
    expect(alertTypeLabel('door.unknown_thing', 'zh')).toBe('door.unknown_thing');
  });

  it('translates severities and passes unknown ones through', () => {
    expect(severityLabel('high', 'zh')).toBe('高');
    expect(severityLabel('weird', 'zh')).toBe('weird');
    expect(severityLabel(null)).toBeNull();
  });

  it('has the title in both languages', () => {
    expect(t('title', 'zh')).toBe('网格化管理指挥中心');
    expect(t('title', 'en')).toBe('Grid Command Centre');
  });
});

describe('Shanghai clock', () => {
  it('shows UTC 16:05:09 as 00:05:09 the next day', () => {
    expect(formatClock(Date.UTC(2026, 0, 1, 16, 5, 9))).toBe('00:05:09');
  });

  it('puts the day boundary at Shanghai midnight (UTC 16:00)', () => {
    expect(shanghaiDay(Date.UTC(2026, 0, 1, 15, 59, 59))).toBe('2026-01-01');
    expect(shanghaiDay(Date.UTC(2026, 0, 1, 16, 0, 0))).toBe('2026-01-02');
  });
});
