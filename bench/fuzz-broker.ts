// npm run fuzz — the long fuzz run of the broker (the CI runs a short one: tests/hostile/broker-fuzz.test.ts):
//   npm run fuzz -- [--duration 300] [--sessions 1000000] [--seed 16] [--concurrency 16] [--round 2000]
// The real system (embedded database, broker, hub) runs in a child process with --expose-gc; the
// sessions (testkit/hostile/mqtt-fuzz.ts) connect over loopback only. Between rounds a real
// handset publishes a fix at QoS 1 and must get its PUBACK; at the end every such fix must be in the
// table. Prints packets sent, survival, and RSS before / peak / after a forced collection; exits 1
// if the broker died (the last sessions' bytes are written to tests/hostile/fixtures/fuzz-crash-<seed>.json).
import { parseArgs } from 'node:util';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { startSystemProcess } from '../testkit/hostile/system-process.js';
import { fuzzSystem } from '../testkit/hostile/fuzz-run.js';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '300' },
    sessions: { type: 'string', default: '1000000' },
    seed: { type: 'string', default: '16' },
    concurrency: { type: 'string', default: '16' },
    round: { type: 'string', default: '2000' },
  },
});
const seed = Number(args.seed);
const MB = (n: number) => Math.round(n / 2 ** 20);
const sys = await startSystemProcess();
const crashFile = fileURLToPath(new URL(`../tests/hostile/fixtures/fuzz-crash-${seed}.json`, import.meta.url));
try {
  const r = await fuzzSystem(sys, {
    seed,
    sessions: Number(args.sessions),
    durationMs: Number(args.duration) * 1000,
    concurrency: Number(args.concurrency),
    roundSessions: Number(args.round),
    crashFile,
    onRound: ({ round, stats, rssMB }) =>
      console.error(`round ${round}: ${stats.sessions} sessions, ${stats.packets} packets, RSS ${rssMB} MB`),
  });
  console.log(
    JSON.stringify(
      {
        machine: `${cpus().length} × ${cpus()[0]?.model ?? '?'}`,
        node: process.version,
        date: new Date().toISOString(),
        seed: r.seed,
        seconds: Math.round(r.stats.ms / 1000),
        sessions: r.stats.sessions,
        packets: r.stats.packets,
        MBsent: +(r.stats.bytes / 1e6).toFixed(1),
        closedByBroker: r.stats.closedByBroker,
        authenticated: r.stats.authenticated,
        survived: r.alive,
        roundTrips: r.roundTrips,
        rssMB: { before: MB(r.before.rss), peak: MB(r.peak), after: MB(r.after.rss) },
        heapAndBuffersMB: { before: MB(r.before.heapUsed + r.before.external), after: MB(r.after.heapUsed + r.after.external) },
        rejected: r.rejected,
      },
      null,
      1,
    ),
  );
  process.exitCode = r.alive ? 0 : 1;
} finally {
  await sys.stop();
}
