-- Patrol reports and task replies from handsets: stored durably in the same transaction as the
-- rest of the batch (so the PUBACK means "kept"), then consumed by dispatch in order.
CREATE TABLE hub_inbox (
  id          bigserial PRIMARY KEY,
  device_id   text NOT NULL,
  channel     text NOT NULL CHECK (channel IN ('reports', 'task-replies')),
  ts          timestamptz NOT NULL,
  body        jsonb NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  processed_at timestamptz,
  UNIQUE (device_id, channel, ts)
);
CREATE INDEX hub_inbox_pending_idx ON hub_inbox (id) WHERE processed_at IS NULL;
