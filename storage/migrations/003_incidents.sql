-- Dispatch (issue 3, DESIGN §4): incident categories with their SLA, incidents with an optimistic
-- version, the append-only audit log, every offer with its "why this worker" score parts, deadlines
-- as rows swept by due time, and the overdue alarms the command screens acknowledge.

-- The SLA table an admin can change (hub/dispatch/sla-policy.ts holds the defaults it is seeded from).
CREATE TABLE incident_categories (
  code             text PRIMARY KEY,
  name_zh          text NOT NULL,
  name_en          text NOT NULL,
  default_priority text NOT NULL CHECK (default_priority IN ('low', 'normal', 'high', 'urgent')),
  tier             text NOT NULL CHECK (tier IN ('grid', 'community', 'street')),
  deadlines        jsonb NOT NULL,   -- {low|normal|high|urgent: {acceptMin, arriveMin, resolveMin}}
  updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE incidents (
  id               text PRIMARY KEY,
  source           text NOT NULL CHECK (source IN ('device_alert', 'patrol_report', 'resident', 'operator')),
  category         text NOT NULL,
  priority         text NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
  title            text,
  description      text,
  photos           jsonb NOT NULL DEFAULT '[]',
  lat              double precision NOT NULL,
  lon              double precision NOT NULL,
  grid_code        text NOT NULL,                 -- never null: the locator always finds an owner
  location_flag    text,                          -- 'outside': nearest grid took it, review on screen
  state            text NOT NULL,
  version          integer NOT NULL,
  escalation_level smallint NOT NULL DEFAULT 0,
  assignee_id      text,
  tried_worker_ids text[] NOT NULL DEFAULT '{}',
  reporter_kind    text,                          -- worker | resident | device | operator
  reporter_id      text,
  reporter_contact text,                          -- a resident's phone: never sent to screens
  reporter_token_hash text,                       -- sha256 of the resident's receipt token (rating)
  reopen_count     integer NOT NULL DEFAULT 0,
  rating           text CHECK (rating IN ('satisfied', 'unsatisfied')),
  rating_score     smallint CHECK (rating_score BETWEEN 1 AND 5),
  -- Alert folding (DESIGN §4): one open incident per device and alert type; repeats add to the count.
  fold_key         text,
  fold_count       integer NOT NULL DEFAULT 1,
  last_seen_at     timestamptz,
  created_at       timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL,
  sla_started_at   timestamptz NOT NULL,
  accept_by        timestamptz NOT NULL,
  arrive_by        timestamptz NOT NULL,
  resolve_by       timestamptz NOT NULL,
  -- Milestones of the current round, for the KPIs (time to accept, arrive, resolve; on time).
  accepted_at      timestamptz,
  arrived_at       timestamptz,
  resolved_at      timestamptz,
  closed_at        timestamptz,
  overdue_stages   text[] NOT NULL DEFAULT '{}'
);
CREATE INDEX incidents_state_idx ON incidents (state) WHERE state NOT IN ('closed', 'cancelled');
CREATE INDEX incidents_grid_created_idx ON incidents (grid_code, created_at DESC);
CREATE INDEX incidents_created_idx ON incidents (created_at DESC);
CREATE INDEX incidents_assignee_idx ON incidents (assignee_id) WHERE assignee_id IS NOT NULL;
-- Two hubs folding the same alert race on this index, not on a read: one insert wins.
CREATE UNIQUE INDEX incidents_open_fold_idx ON incidents (fold_key)
  WHERE fold_key IS NOT NULL AND state NOT IN ('resolved', 'verified', 'closed', 'cancelled');

-- Append-only: one row per version, so a lost race cannot write a second entry for the same step.
CREATE TABLE incident_audit (
  incident_id text NOT NULL REFERENCES incidents(id),
  version     integer NOT NULL,
  at          timestamptz NOT NULL,
  actor_kind  text NOT NULL,
  actor_id    text NOT NULL,
  actor_role  text,
  action      text NOT NULL,
  from_state  text,
  to_state    text NOT NULL,
  reason      text,
  detail      jsonb,
  PRIMARY KEY (incident_id, version)
);

-- Every offer made, with the score parts that chose the worker (DESIGN §4: every choice explainable).
-- Also the outbox of task messages: published_at is set once the broker took the offer.
CREATE TABLE incident_offers (
  task_id        text PRIMARY KEY,
  incident_id    text NOT NULL REFERENCES incidents(id),
  worker_id      text NOT NULL,
  device_id      text,
  level          smallint NOT NULL,
  via            text NOT NULL,
  rank           integer NOT NULL,
  total          double precision NOT NULL,
  parts          jsonb NOT NULL,
  distance_m     double precision,
  position_age_ms double precision,
  offered_at     timestamptz NOT NULL,
  accept_by      timestamptz NOT NULL,
  status         text NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'accepted', 'declined', 'timed_out', 'withdrawn')),
  answered_at    timestamptz,
  published_at   timestamptz
);
CREATE INDEX incident_offers_incident_idx ON incident_offers (incident_id, offered_at);
CREATE INDEX incident_offers_unpublished_idx ON incident_offers (offered_at) WHERE published_at IS NULL;

-- Deadlines are rows, swept by due time (STYLE: "every deadline is a row, not a setTimeout").
-- kind: offer (answer the offer), accept / arrive / resolve (the SLA), retry (route again a case
-- held at street command with nobody to take it), close (a verified resident case the resident did
-- not rate closes by default). A deadline whose incident moved on is stale: marked, not acted on.
CREATE TABLE incident_deadlines (
  id          bigserial PRIMARY KEY,
  incident_id text NOT NULL REFERENCES incidents(id),
  kind        text NOT NULL CHECK (kind IN ('offer', 'accept', 'arrive', 'resolve', 'retry', 'close')),
  due_at      timestamptz NOT NULL,
  ref         text,               -- the offer's task id for kind = offer
  fired_at    timestamptz,
  outcome     text
);
CREATE INDEX incident_deadlines_due_idx ON incident_deadlines (due_at) WHERE fired_at IS NULL;
CREATE UNIQUE INDEX incident_deadlines_once_idx ON incident_deadlines (incident_id, kind, due_at, coalesce(ref, ''));

-- Overdue alarms for the command screens; an operator acknowledges them.
CREATE TABLE incident_alarms (
  id              bigserial PRIMARY KEY,
  incident_id     text NOT NULL REFERENCES incidents(id),
  stage           text NOT NULL,
  level           smallint NOT NULL,
  raised_at       timestamptz NOT NULL,
  acknowledged_at timestamptz,
  acknowledged_by text,
  UNIQUE (incident_id, stage, raised_at)
);
CREATE INDEX incident_alarms_open_idx ON incident_alarms (raised_at DESC) WHERE acknowledged_at IS NULL;

-- Door and camera alerts reach dispatch through the inbox like reports and replies do, so a claim
-- in the database, not an in-memory callback, decides which hub turns an alert into an incident.
ALTER TABLE hub_inbox DROP CONSTRAINT hub_inbox_channel_check;
ALTER TABLE hub_inbox ADD CONSTRAINT hub_inbox_channel_check CHECK (channel IN ('reports', 'task-replies', 'events'));
ALTER TABLE hub_inbox ADD COLUMN key text NOT NULL DEFAULT '';
ALTER TABLE hub_inbox DROP CONSTRAINT hub_inbox_device_id_channel_ts_key;
ALTER TABLE hub_inbox ADD CONSTRAINT hub_inbox_once UNIQUE (device_id, channel, key, ts);
