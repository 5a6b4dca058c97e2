// Liveness and readiness, the way orchestrators and load balancers read them (issue 13):
//   GET /health/live   200 while the process answers at all (restart it when this fails);
//   GET /health/ready  200 when this node can take devices' data: the database answers, the broker
//                      listens, ingest is keeping up; else 503 with the reason of each failed check.
// `GET /health` stays as the readiness answer with the node's info, for the tools that used it.
// /metrics carries the same checks as `hub_ready{check=…}` gauges.
import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../../common/metrics.js';

export interface ReadinessCheck {
  ok: boolean;
  reason?: string;
}

export type Readiness = () => Promise<Record<string, ReadinessCheck>>;

export interface HealthDeps {
  readiness: Readiness;
  info: () => Record<string, unknown>;
  metrics: Metrics;
}

export async function healthRoutes(app: FastifyInstance, deps: HealthDeps): Promise<void> {
  let last: Record<string, ReadinessCheck> = {};
  const check = async () => {
    last = await deps.readiness();
    return last;
  };
  // One gauge per check, read from the last answer (a scrape does not query the database itself).
  for (const name of ['database', 'broker', 'ingest']) {
    deps.metrics.gauge(
      `hub_ready_${name}`,
      () => (last[name]?.ok === false ? 0 : 1),
      `1 when the ${name} readiness check passed at the last /health/ready`,
    );
  }

  app.get('/health/live', async () => ({ ok: true }));

  const ready = async (_req: unknown, reply: { status(code: number): unknown }) => {
    const checks = await check();
    const ok = Object.values(checks).every((c) => c.ok);
    if (!ok) reply.status(503);
    return { ok, checks, ...deps.info() };
  };
  app.get('/health/ready', ready);
  app.get('/health', ready);
}
