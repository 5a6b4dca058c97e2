-- Core schema: regions, people, devices, and the time series they produce.
-- All times are UTC timestamptz; the screens show Asia/Shanghai.

CREATE TABLE regions (
  code        text PRIMARY KEY,
  parent_code text REFERENCES regions(code),
  level       text NOT NULL CHECK (level IN ('district', 'street', 'community', 'grid', 'unit', 'cell')),
  name        text NOT NULL,
  geometry    jsonb NOT NULL,          -- GeoJSON Polygon or MultiPolygon, WGS-84
  props       jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX regions_parent_idx ON regions (parent_code);

CREATE TABLE workers (
  id          text PRIMARY KEY,
  name        text NOT NULL,
  role        text NOT NULL CHECK (role IN ('grid_worker', 'grid_leader', 'community_police', 'department_staff', 'command')),
  grid_codes  text[] NOT NULL DEFAULT '{}',   -- grids they answer for
  categories  text[] NOT NULL DEFAULT '{}',   -- incident categories they handle ('*' = all)
  duty        text NOT NULL DEFAULT 'off' CHECK (duty IN ('on', 'off')),
  duty_since  timestamptz
);

CREATE TABLE devices (
  id          text PRIMARY KEY,
  kind        text NOT NULL CHECK (kind IN ('handset', 'door', 'camera')),
  secret_hash text NOT NULL,                  -- scrypt$N$r$p$salt$hash, never the secret
  worker_id   text REFERENCES workers(id),    -- handsets: who carries it
  grid_code   text REFERENCES regions(code),  -- fixed devices: where they hang
  lat         double precision,
  lon         double precision,
  name        text,
  enabled     boolean NOT NULL DEFAULT true
);
CREATE INDEX devices_worker_idx ON devices (worker_id);

-- One row per fix; (device, fix time) is the idempotency key: a redelivered or re-uploaded fix
-- is the same row (DESIGN §5, exactly once in the database).
CREATE TABLE positions (
  device_id   text NOT NULL,
  ts          timestamptz NOT NULL,
  worker_id   text,
  lat         double precision NOT NULL,
  lon         double precision NOT NULL,
  acc         real,
  alt         real,
  speed       real,
  heading     real,
  battery     real,
  seq         bigint,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (device_id, ts)
);
CREATE INDEX positions_worker_ts_idx ON positions (worker_id, ts DESC);

-- Door and camera alerts. event_key is the device's eventId, or the type when it sends none.
CREATE TABLE device_events (
  device_id   text NOT NULL,
  ts          timestamptz NOT NULL,
  event_key   text NOT NULL,
  type        text NOT NULL,
  severity    text,
  confidence  real,
  snapshot    text,
  data        jsonb,
  lat         double precision,
  lon         double precision,
  grid_code   text,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (device_id, event_key, ts)
);
CREATE INDEX device_events_ts_idx ON device_events (ts DESC);

-- Handset status (duty, battery) and presence transitions, for the day's record.
CREATE TABLE device_status (
  device_id   text NOT NULL,
  ts          timestamptz NOT NULL,
  kind        text NOT NULL CHECK (kind IN ('status', 'presence')),
  duty        text,
  battery     real,
  online      boolean,
  PRIMARY KEY (device_id, kind, ts)
);

-- Everything that did not parse or validate, kept for inspection (payload capped).
CREATE TABLE dead_letters (
  id          bigserial PRIMARY KEY,
  received_at timestamptz NOT NULL DEFAULT now(),
  topic       text NOT NULL,
  device_id   text,
  reason      text NOT NULL,
  size        integer NOT NULL,
  payload     bytea NOT NULL
);
CREATE INDEX dead_letters_time_idx ON dead_letters (received_at DESC);
