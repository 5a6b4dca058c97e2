-- A grid worker's SOS (issue 15 §3): the alarm button of a JT/T 808 terminal (alarm flag bit 0,
-- handset.sos) is an urgent incident at his position. Only handset.* types in this table become
-- incidents (hub/dispatch/dispatch-work.ts intakeAlert); power cut, low battery, tamper and GNSS
-- faults stay events on the screen unless an admin adds them here (PUT /api/categories/:code).
-- Tier grid: the nearest colleagues of his own grid first (he himself is passed over), and the
-- EMERGENCY profile of hub/dispatch/sla-policy.ts (minutes), so an unanswered SOS climbs in minutes.
INSERT INTO incident_categories (code, name_zh, name_en, default_priority, tier, deadlines) VALUES (
  'handset.sos', '网格员紧急求助', 'Worker SOS', 'urgent', 'grid',
  '{"low":    {"acceptMin": 10, "arriveMin": 30, "resolveMin": 480},
    "normal": {"acceptMin": 5,  "arriveMin": 15, "resolveMin": 240},
    "high":   {"acceptMin": 3,  "arriveMin": 10, "resolveMin": 120},
    "urgent": {"acceptMin": 2,  "arriveMin": 8,  "resolveMin": 60}}'
) ON CONFLICT (code) DO NOTHING;
