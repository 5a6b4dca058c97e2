// OwnTracks over HTTP, as a fastify plugin the hub registers (hub/http/http-server.ts):
//
//   POST /api/owntracks        the app's HTTP mode (booklet "HTTP"): one JSON payload per request, HTTP
//                              Basic with the device id and its secret, `X-Limit-U`/`X-Limit-D` naming
//                              user and device. No session (access `public`): the app has none. The
//                              answer, 200 with `[]` (the app expects a JSON array), leaves only once
//                              the payload's rows or its dead letter are committed; a repeat is stored
//                              once (the hub's idempotent writes); a payload the hub cannot use is a
//                              dead letter and a counter, and still a 200, so the app's queue moves on.
//   GET  /api/owntracks/setup  for the Devices page (admins): where a phone reaches this hub (broker
//                              host and port, the POST URL), so the page builds the link and QR code
//                              itself and the secret never leaves it (owntracks-qr-panel.ts).
//   POST /api/owntracks/setup  the same for tools and scripts (admins): configuration, link and QR code
//                              of one OwnTracks device, given its secret (checked against the registry).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type pg from 'pg';
import type { Clock } from '../../common/clock.js';
import { errorEnvelope, errorStatus, type OWNTRACKS_ERRORS } from '../../common/error-codes.js';
import type { Logger } from '../../common/logger.js';
import type { Metrics } from '../../common/metrics.js';
import type { DeviceSecretKey } from '../../common/secrets.js';
import type { BackoffPolicy } from '../../broker/verify-limit.js';
import { findDevice } from '../../storage/device-store.js';
import { OWNTRACKS_ROUTES as R } from '../../protocol/owntracks-api.js';
import type { ZodTypeProvider } from '../../common/zod-schema.js';
import type { OwnTracksSetup, OwnTracksSetupDefaults } from '../../protocol/owntracks-config.js';
import { ownTracksSetup } from './owntracks-qr.js';
import { OwnTracksHttpAuth } from './owntracks-http-auth.js';
import { OwnTracksIngest, pgDeadLetters, type Submit } from './owntracks-sink.js';
import { DEFAULT_APP_DEVICE, OWNTRACKS_NAME_PATTERN, ownTracksTopic } from '../../protocol/owntracks-topics.js';

// Its codes and messages live in the one registry (common/error-codes.ts, OWNTRACKS_ERRORS).
type OwnTracksErrorCode = keyof typeof OWNTRACKS_ERRORS;

export interface OwnTracksHttpOptions {
  /** Hub.submit. */
  submit: Submit;
  topicRoot: string;
  /** The hub's database: device lookups and dead letters. */
  pool: Pick<pg.Pool, 'query'>;
  /** The server key of device secrets (the broker's). */
  key: DeviceSecretKey | null;
  metrics: Metrics;
  logger: Logger;
  /** The broker's port, the setup link's default for MQTT mode (0: none, the caller must say). */
  mqttPort?: number;
  backoff?: Partial<BackoffPolicy>;
  clock?: Clock;
}

/** The one envelope, at the status the registry gives the code. */
function send(reply: FastifyReply, code: OwnTracksErrorCode, extra: Record<string, unknown> = {}): FastifyReply {
  return reply.status(errorStatus(code)).send(errorEnvelope(code, extra));
}

const REFUSAL_CODES = {
  401: 'OWNTRACKS_UNAUTHENTICATED',
  403: 'OWNTRACKS_FORBIDDEN',
  429: 'OWNTRACKS_TOO_MANY',
  503: 'OWNTRACKS_UNAVAILABLE',
} as const;

/** The Recorder's query form of user and device (booklet "HTTP"); the headers win when both come. */
/** GET /api/owntracks/setup: what the page needs to build a link without sending the secret anywhere. */
export type { OwnTracksSetupDefaults };

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' ? v : undefined;
}

export async function ownTracksRoutes(app: FastifyInstance, opts: OwnTracksHttpOptions): Promise<void> {
  const { metrics } = opts;
  const auth = new OwnTracksHttpAuth({
    find: (id) => findDevice(opts.pool, id),
    key: opts.key,
    metrics,
    logger: opts.logger,
    backoff: opts.backoff,
    now: opts.clock ? () => opts.clock!.now() : undefined,
  });
  const ingest = new OwnTracksIngest({
    submit: opts.submit,
    topicRoot: opts.topicRoot,
    deadLetter: pgDeadLetters(opts.pool),
    metrics,
    logger: opts.logger,
    clock: opts.clock,
  });
  app.addHook('onClose', async () => auth.close());

  // The app's POST: the body is taken as bytes, so a payload that is not JSON is kept as a dead
  // letter like any other bad input instead of vanishing in a 400 (encapsulated: only this route).
  await app.register(async (r) => {
    r.removeAllContentTypeParsers();
    r.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    r.withTypeProvider<ZodTypeProvider>().route({
      ...R.post,
      config: { access: 'public', body: 'form' },
      handler: async (req, reply) => {
        const verdict = await auth.check(req.ip, header(req, 'authorization'));
        if (!verdict.ok) {
          if (verdict.status === 401) void reply.header('www-authenticate', 'Basic realm="owntracks", charset="UTF-8"');
          return send(reply, REFUSAL_CODES[verdict.status]);
        }
        const asked = header(req, 'x-limit-d') ?? req.query.d;
        const appDevice = asked !== undefined && OWNTRACKS_NAME_PATTERN.test(asked) ? asked : DEFAULT_APP_DEVICE;
        const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        try {
          await ingest.handle(verdict.deviceId, ownTracksTopic(verdict.deviceId, appDevice), body, 'http');
        } catch (err) {
          // A dead letter that could not be written: nothing is acknowledged, the app posts it again.
          req.log.error({ err: (err as Error).message, deviceId: verdict.deviceId }, 'owntracks post not stored');
          return send(reply, 'OWNTRACKS_UNAVAILABLE');
        }
        metrics.inc('owntracks_http_stored_total');
        return reply.status(200).type('application/json').send([]);
      },
    });
  });

  // The setup link for one device. A body the contract refuses is 422 OWNTRACKS_SETUP_INVALID here.
  await app.register(async (plugin) => {
    plugin.setErrorHandler((err: Error & { code?: string; issues?: string[] }, _req, reply) => {
      if (err.code !== 'FST_ERR_VALIDATION') throw err;
      metrics.inc('owntracks_setup_refused_total', { reason: 'invalid' });
      return send(reply, 'OWNTRACKS_SETUP_INVALID', { issues: [(err.issues ?? [err.message]).join('; ')] });
    });
    const r = plugin.withTypeProvider<ZodTypeProvider>();
    // Where the phone reaches the hub, unless the caller says: the address the admin's browser used
    // (the phone is usually on the same network), the broker's port, this route's URL.
    const defaults = (req: FastifyRequest): OwnTracksSetupDefaults => ({
      mqtt: { host: req.hostname, port: opts.mqttPort ? opts.mqttPort : null, tls: false },
      http: { url: `${req.protocol}://${req.host}/api/owntracks` },
      appDevice: DEFAULT_APP_DEVICE,
    });
    r.route({ ...R.setupDefaults, config: { access: 'admin' }, handler: async (req) => defaults(req) });
    r.route({
      ...R.setup,
      config: { access: 'admin', body: 'form' },
      handler: async (req, reply) => {
        const device = await auth.device(req.body.deviceId);
        if (!device) return send(reply, 'OWNTRACKS_NOT_FOUND');
        if (device.protocol !== 'owntracks') return send(reply, 'OWNTRACKS_NOT_OWNTRACKS');
        if (!(await auth.matches(device, req.body.secret))) {
          metrics.inc('owntracks_setup_refused_total', { reason: 'secret_mismatch' });
          return send(reply, 'OWNTRACKS_SECRET_MISMATCH');
        }
        const d = defaults(req);
        const input: OwnTracksSetup = {
          ...req.body,
          host: req.body.host ?? d.mqtt.host,
          port: req.body.port ?? d.mqtt.port ?? undefined,
          url: req.body.url ?? d.http.url,
        };
        try {
          const setup = await ownTracksSetup(input);
          metrics.inc('owntracks_setup_total', { mode: String(setup.configuration.mode) });
          // The link holds the secret: never cached by a proxy or the browser.
          return reply.header('cache-control', 'no-store').send(setup);
        } catch (err) {
          metrics.inc('owntracks_setup_refused_total', { reason: 'invalid' });
          return send(reply, 'OWNTRACKS_SETUP_INVALID', { issues: [(err as Error).message.slice(0, 300)] });
        }
      },
    });
  });
}
