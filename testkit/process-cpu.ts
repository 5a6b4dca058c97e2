// CPU time of processes from /proc (Linux): what `bench:ingest` charges to the system under test
// (this process, a PostgreSQL server's postmaster and backends, Redis, child nodes) and to a
// baseline (stock Aedes, Mosquitto, mosquitto_sub), the load generator left out.
import { readdirSync, readFileSync } from 'node:fs';

const TICK_US = 1e6 / 100; // USER_HZ is 100 on Linux

/** user + system CPU of one process, µs; 0 when it is gone. */
export function processCpuUs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime, stime are fields 14 and 15 of stat; after "pid (comm) " they are 11 and 12.
    return (Number(f[11]) + Number(f[12])) * TICK_US;
  } catch {
    return 0;
  }
}

/** A process and every descendant (a PostgreSQL server: postmaster and backends; a cluster: workers). */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    out.push(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(pid);
  return out;
}

/**
 * A running CPU meter over process trees. Backends come and go (a PostgreSQL connection that
 * closes takes its CPU with it), so the trees are re-read at each sample and every pid's last
 * reading is kept: the total is the sum of the latest reading of every pid ever seen.
 */
export class CpuMeter {
  private readonly last = new Map<number, number>();

  constructor(private readonly roots: () => number[]) {}

  sample(): number {
    for (const root of this.roots())
      for (const pid of processTree(root)) {
        const us = processCpuUs(pid);
        if (us > 0) this.last.set(pid, us);
      }
    let total = 0;
    for (const us of this.last.values()) total += us;
    return total;
  }
}

/** The postmaster listening on this port (its command line carries `-p <port>`). */
export function postmasterPid(port: number): number | null {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      const i = cmd.indexOf('-p');
      if (cmd[0]?.endsWith('postgres') && i >= 0 && cmd[i + 1] === String(port)) return Number(d);
    } catch {
      // gone meanwhile
    }
  }
  return null;
}
