// Name lists for the demo district. Place names are in the style of Zhuzhou's 荷塘区 but the
// district is invented: its boundaries, names and people match nothing real.
import type { Rng } from './rng.js';

export const DISTRICT = { code: '430299', name: '荷塘示范区' } as const;

export const STREET_NAMES = [
  '月塘',
  '宋家桥',
  '茨菇塘',
  '金山',
  '桂花',
  '明照',
  '仙庾',
  '新塘',
  '湘江',
  '枫溪',
  '樟树',
  '荷花',
  '红旗',
  '建设',
  '文化',
  '东风',
  '向阳',
  '和平',
  '白石港',
  '戴家岭',
  '晨光',
  '清水',
  '石宋',
  '龙泉',
] as const;

export const COMMUNITY_NAMES = [
  '枫林',
  '桂园',
  '清水塘',
  '芙蓉',
  '杉木',
  '竹园',
  '石峰',
  '翠微',
  '梅苑',
  '银海',
  '香樟',
  '玉泉',
  '新华',
  '锦绣',
  '湘韵',
  '丽景',
  '长塘',
  '卫东',
  '合泰',
  '响石',
  '仙月',
  '徐家',
  '泥湖',
  '荷花塘',
  '栗雨',
  '天台',
  '车站',
  '燎原',
  '荷塘铺',
  '金钩山',
  '星火',
  '凿石',
  '钟鼓',
  '白马',
  '南华',
  '东湖',
] as const;

export const COMPOUND_NAMES = [
  '枫林苑',
  '湘江花园',
  '桂花城',
  '金山小区',
  '荷塘月色',
  '翠竹园',
  '紫薇苑',
  '锦江华府',
  '铁路新村',
  '电力小区',
  '化工新村',
  '东方名苑',
  '阳光花园',
  '书香门第',
  '滨江御景',
  '和园',
  '玉泉山庄',
  '长青苑',
] as const;

const SURNAMES = [
  '王',
  '李',
  '张',
  '刘',
  '陈',
  '杨',
  '黄',
  '赵',
  '吴',
  '周',
  '徐',
  '孙',
  '马',
  '朱',
  '胡',
  '郭',
  '何',
  '高',
  '林',
  '罗',
  '郑',
  '梁',
  '谢',
  '宋',
  '唐',
  '许',
  '韩',
  '冯',
  '邓',
  '曹',
  '彭',
  '曾',
  '肖',
  '田',
  '董',
  '袁',
  '潘',
  '蒋',
  '蔡',
  '余',
  '杜',
  '叶',
  '程',
  '苏',
  '魏',
  '吕',
  '丁',
  '任',
  '沈',
  '姚',
  '卢',
  '谭',
  '廖',
  '贺',
  '龙',
  '易',
  '文',
  '欧阳',
  '向',
  '龚',
  '邹',
  '刘',
  '李',
  '王',
  '陈',
  '彭',
  '谭',
  '罗',
  '周',
  '唐',
] as const;

const GIVEN = [
  '伟',
  '芳',
  '娜',
  '敏',
  '静',
  '丽',
  '强',
  '磊',
  '军',
  '洋',
  '勇',
  '艳',
  '杰',
  '娟',
  '涛',
  '明',
  '超',
  '秀',
  '霞',
  '平',
  '刚',
  '桂',
  '英',
  '华',
  '玉',
  '兰',
  '红',
  '建',
  '文',
  '辉',
  '林',
  '燕',
  '婷',
  '鹏',
  '斌',
  '浩',
  '宇',
  '欣',
  '佳',
  '雪',
  '丹',
  '倩',
  '晨',
  '志',
  '海',
  '峰',
  '亮',
  '宁',
  '凯',
  '飞',
  '湘',
  '蓉',
  '立',
  '新',
] as const;

/** A Chinese personal name: one surname, one or two given-name characters. */
export function personName(rng: Rng): string {
  const given = rng.chance(0.65) ? rng.pick(GIVEN) + rng.pick(GIVEN) : rng.pick(GIVEN);
  return rng.pick(SURNAMES) + given;
}

/**
 * Departments that report when the street whistles (街乡吹哨，部门报到), with the categories they take:
 * codes of the hub's category table (hub/dispatch/sla-policy.ts), or nobody at street command could
 * ever match a street-tier case such as a damaged road (sim:day showed them all held at command).
 */
export const DEPARTMENTS = [
  { name: '城管', categories: ['garbage', 'parking', 'camera.garbage', 'camera.parking', 'other'] },
  { name: '住建', categories: ['road', 'drain', 'streetlight', 'hazard'] },
  { name: '市场监管', categories: ['other', 'dispute'] },
  { name: '消防', categories: ['camera.fire', 'camera.smoke', 'hazard'] },
  { name: '环保', categories: ['noise', 'garbage', 'camera.garbage'] },
] as const;

/** The k-th name of a list, suffixed with a number once the list is used up (large simulated districts). */
export function nthName(list: readonly string[], order: readonly number[], k: number): string {
  const base = list[order[k % order.length] as number] as string;
  const round = Math.floor(k / order.length);
  return round === 0 ? base : `${base}${round + 1}`;
}

const CN_DIGITS = ['零', '一', '二', '三', '四', '五', '六', '七', '八', '九', '十'] as const;

/** 1..99 in Chinese numerals, for grid names such as 枫林社区第三网格. */
export function cnNumber(n: number): string {
  if (n <= 10) return CN_DIGITS[n] as string;
  const tens = Math.floor(n / 10);
  const ones = n % 10;
  return `${tens === 1 ? '' : CN_DIGITS[tens]}十${ones === 0 ? '' : CN_DIGITS[ones]}`;
}
