// Configuration: parsed once at start from the environment, validated, frozen, passed down.
// Nothing below main reads process.env.
import { z } from 'zod';
import { DEFAULT_TOPIC_ROOT } from '../protocol/topics.js';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'])
  .default('true')
  .transform((v) => ['true', '1', 'yes', 'on'].includes(v));

const port = z.coerce.number().int().min(0).max(65535);

const envSchema = z.object({
  DATABASE_URL: z.string().url().optional(),
  REDIS_URL: z.string().url().optional(),
  // Nodes on this machine (node:cluster workers sharing the MQTT and HTTP ports): a number, or
  // `auto` for one per core. More than one needs DATABASE_URL and REDIS_URL (README, "Several nodes").
  NODES: z.union([z.literal('auto'), z.coerce.number().int().min(1).max(64)]).default(1),
  DATA_DIR: z.string().default('./data'),
  // HMAC key of device secrets (common/secrets.ts); unset: DATA_DIR/device-secret.key, made once.
  DEVICE_SECRET_KEY: z.string().min(32, 'at least 32 characters, e.g. the output of: openssl rand -base64 32').optional(),
  HOST: z.string().default('127.0.0.1'),
  // Behind a TLS proxy: `true` or the proxies' addresses/CIDRs (hub/http/http-security.ts).
  TRUST_PROXY: z
    .string()
    .regex(/^(true|false|[0-9a-fA-F.:/,\s]+)$/, "true, false or the proxies' addresses/CIDRs")
    .optional(),
  // JT/T 808 terminals (gateways/jt808/): their TCP port (the standard fixes none), idle limit.
  JT808_PORT: port.default(6808),
  JT808_IDLE_S: z.coerce.number().int().min(10).max(3600).default(180),
  MQTT_PORT: port.default(1883),
  HTTP_PORT: port.default(8080),
  TOPIC_ROOT: z
    .string()
    .regex(/^[a-z0-9_-]+(\/[a-z0-9_-]+)*$/)
    .default(DEFAULT_TOPIC_ROOT),
  HUB_MQTT_USERNAME: z.string().default('hub'),
  HUB_MQTT_PASSWORD: z.string().min(12).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // Unset: 5,000 on a PostgreSQL server (COPY), 2,000 embedded (hub/rows/commit-rows.ts).
  BATCH_MAX_ROWS: z.coerce.number().int().min(1).max(50000).optional(),
  BATCH_MAX_WAIT_MS: z.coerce.number().int().min(1).max(10000).default(50),
  // 50 ms: at 10,000 handsets on two nodes the screen's p50 is 58–86 ms against 108–111 at 100 ms,
  // for the same CPU (BENCHMARKS session 10); a screen gets at most 20 batches a second.
  PUSH_INTERVAL_MS: z.coerce.number().int().min(50).max(10000).default(50),
  // Position filters (issue 16, docs/decisions/010): a fix more than FIX_MAX_FUTURE_S ahead of the
  // hub's clock is refused; one implying more than FIX_MAX_SPEED_KMH from the device's previous
  // fix, or with an accuracy worse than FIX_MAX_ACC_M, is stored flagged (never a dot, trail or KPI).
  FIX_MAX_FUTURE_S: z.coerce.number().min(0).max(600).default(60),
  FIX_MAX_SPEED_KMH: z.coerce.number().min(1).max(2000).default(150),
  FIX_MAX_ACC_M: z.coerce.number().min(1).max(100000).default(200),
  // Dispatch (issue 3): how long a worker has to answer an offer; how often due deadlines are swept.
  DISPATCH_OFFER_TIMEOUT_S: z.coerce.number().int().min(10).max(86400).default(180),
  DISPATCH_SWEEP_MS: z.coerce.number().int().min(50).max(60000).default(1000),
  DISPATCH_HOLD_RETRY_MIN: z.coerce.number().int().min(1).max(1440).default(5),
  DISPATCH_RATING_WAIT_H: z.coerce.number().min(0.01).max(720).default(24),
  /** Public resident endpoints (complaints, status, rating): requests per minute per address. */
  COMPLAINTS_PER_MIN: z.coerce.number().int().min(1).max(100000).default(20),
  DISPATCH_NEIGHBOUR_RADIUS_M: z.coerce.number().min(0).max(20000).default(1500),
  SIM: bool,
  SIM_SEED: z.coerce.number().int().default(20261125),
  SIM_HANDSETS: z.coerce.number().int().min(0).max(100000).default(24),
  // Each door or camera alerts every 20 min on average: every alert is an incident for 24 workers now.
  SIM_ALERT_EVERY_S: z.coerce.number().min(1).default(1200),
  SIM_FIX_EVERY_S: z.coerce.number().min(0.1).default(2),
  // Command screen (issue 4): login, session lifetime, optional base map.
  AUTH_REQUIRED: bool,
  SESSION_TTL_MIN: z.coerce
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 60)
    .default(12 * 60),
  TILE_URL: z
    .string()
    .regex(/^https?:\/\/.*\{z\}.*\{x\}.*\{y\}/, 'an XYZ template with {z}, {x} and {y}')
    .optional(),
  TILE_ATTRIBUTION: z.string().max(300).optional(),
});

export type Config = Readonly<z.infer<typeof envSchema>>;

/** Parses the environment; throws an Error naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const picked: Record<string, string> = {};
  for (const key of Object.keys(envSchema.shape)) {
    const v = env[key];
    if (v !== undefined && v !== '') picked[key] = v;
  }
  const parsed = envSchema.safeParse(picked);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid configuration, fix these environment variables:\n${lines.join('\n')}`);
  }
  return Object.freeze(parsed.data);
}

/** Config for tests and tools: defaults plus overrides, no environment. */
export function testConfig(overrides: Partial<Record<keyof z.infer<typeof envSchema>, string>> = {}): Config {
  // AUTH_REQUIRED is off in tests unless a test turns it on (the auth tests do).
  return loadConfig({
    SIM: 'false',
    LOG_LEVEL: 'silent',
    MQTT_PORT: '0',
    HTTP_PORT: '0',
    JT808_PORT: '0',
    AUTH_REQUIRED: 'false',
    ...overrides,
  });
}
