// The category table with its SLA (accept, arrive, resolve per priority), kept in the database so an
// admin can change it. Seeded from DEFAULT_SLA_TABLE the first time; validated on every write.
import type pg from 'pg';
import { DEFAULT_SLA_TABLE, slaCategorySchema, type SlaCategory } from './sla-policy.js';

type Q = Pick<pg.Pool, 'query'>;

export async function seedCategories(q: Q): Promise<void> {
  for (const c of DEFAULT_SLA_TABLE) {
    await q.query(
      `INSERT INTO incident_categories (code, name_zh, name_en, default_priority, tier, deadlines)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (code) DO NOTHING`,
      [c.code, c.nameZh, c.nameEn, c.defaultPriority, c.tier, JSON.stringify(c.deadlines)],
    );
  }
}

export async function loadCategories(q: Q): Promise<SlaCategory[]> {
  const r = await q.query('SELECT code, name_zh, name_en, default_priority, tier, deadlines FROM incident_categories ORDER BY code');
  return r.rows.map((row) =>
    slaCategorySchema.parse({
      code: row.code,
      nameZh: row.name_zh,
      nameEn: row.name_en,
      defaultPriority: row.default_priority,
      tier: row.tier,
      deadlines: row.deadlines,
    }),
  );
}

/** Insert or change one category; the caller validated it with slaCategorySchema. */
export async function saveCategory(q: Q, c: SlaCategory): Promise<void> {
  await q.query(
    `INSERT INTO incident_categories (code, name_zh, name_en, default_priority, tier, deadlines, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, now())
     ON CONFLICT (code) DO UPDATE SET name_zh = EXCLUDED.name_zh, name_en = EXCLUDED.name_en,
       default_priority = EXCLUDED.default_priority, tier = EXCLUDED.tier, deadlines = EXCLUDED.deadlines, updated_at = now()`,
    [c.code, c.nameZh, c.nameEn, c.defaultPriority, c.tier, JSON.stringify(c.deadlines)],
  );
}
