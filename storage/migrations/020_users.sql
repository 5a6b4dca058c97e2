-- Command-screen users and their sessions (issue 4, item 6). A user sees only the region subtree
-- of their scope (a district, street or community code); DESIGN §5: "a community screen never
-- sees another community's workers".

CREATE TABLE users (
  id            text PRIMARY KEY,
  username      text NOT NULL UNIQUE,
  display_name  text NOT NULL,
  password_hash text NOT NULL,                  -- scrypt$N$r$p$salt$hash (common/secrets.ts), never the password
  role          text NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
  scope_code    text NOT NULL REFERENCES regions(code),
  enabled       boolean NOT NULL DEFAULT true,
  created_at    timestamptz NOT NULL DEFAULT now()
);

-- A session is a random token held by the browser (httpOnly cookie or bearer); only its SHA-256
-- is stored, so a leaked table does not log anyone in. Rows, not memory: several hubs share them.
CREATE TABLE user_sessions (
  token_hash  text PRIMARY KEY,
  user_id     text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at  timestamptz NOT NULL,
  expires_at  timestamptz NOT NULL
);
CREATE INDEX user_sessions_expiry_idx ON user_sessions (expires_at);
