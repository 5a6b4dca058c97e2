-- The device registry (issue 15 §1): what an admin needs to add, find and retire devices, and an
-- audit of every change. Devices of other protocols (OwnTracks phones, JT/T 808 terminals) are rows
-- here too; `protocol_id` is the identity the protocol itself carries (the JT/T 808 terminal number,
-- the OwnTracks "user/device"), unique per protocol. A JT/T 808 authentication code is not stored:
-- it is derived from the device's secret row with the server key (common/secrets.ts
-- derivedDeviceCode), so a leaked table holds no credential at all.
-- secret_hash now holds `hmac-sha256$<key id>$<mac>` (random tokens, keyed hash, issue 14);
-- rows still in the scrypt form are rewritten by the broker at the device's next connect.

ALTER TABLE devices DROP CONSTRAINT IF EXISTS devices_kind_check;
ALTER TABLE devices ADD CONSTRAINT devices_kind_check CHECK (kind IN ('handset', 'door', 'camera', 'sensor'));

ALTER TABLE devices
  ADD COLUMN protocol          text NOT NULL DEFAULT 'native' CHECK (protocol IN ('native', 'owntracks', 'jt808')),
  ADD COLUMN protocol_id       text CHECK (protocol_id IS NULL OR length(protocol_id) BETWEEN 1 AND 128),
  ADD COLUMN model             text,
  ADD COLUMN firmware          text,
  ADD COLUMN created_at        timestamptz NOT NULL DEFAULT now(),
  ADD COLUMN updated_at        timestamptz NOT NULL DEFAULT now(),
  -- When the hub last committed anything from the device (flushed every few seconds, not per message).
  ADD COLUMN last_seen         timestamptz,
  ADD COLUMN secret_changed_at timestamptz;

CREATE UNIQUE INDEX devices_protocol_id_idx ON devices (protocol, protocol_id) WHERE protocol_id IS NOT NULL;
CREATE INDEX devices_grid_idx ON devices (grid_code);

-- Who changed which device, when, and what (field → [before, after]); never a secret or its hash.
-- No foreign key: the trail of a deleted device stays.
CREATE TABLE device_audit (
  id         bigserial PRIMARY KEY,
  device_id  text NOT NULL,
  at         timestamptz NOT NULL DEFAULT now(),
  actor      text NOT NULL,            -- a user id, 'cli:<os user>', or 'system'
  actor_role text,
  action     text NOT NULL CHECK (action IN ('create', 'update', 'enable', 'disable', 'delete', 'rotate_secret', 'import')),
  changes    jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX device_audit_device_idx ON device_audit (device_id, at DESC);
