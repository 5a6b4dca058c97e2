// Counters and gauges, exposed at GET /metrics in Prometheus text format. Each module registers its
// names once; rejections are counted with a `reason` label so floods are visible, not silent.

type Labels = Record<string, string>;

/**
 * name → label → value → key, for counters with one label: ingest counts every message with one
 * (ingest_accepted_total{channel}), and building the key each time cost ~0.27 µs a message, more
 * than the rest of the count. Values per label are capped: a label fed with unbounded values
 * (never meant to be, a metrics rule) falls back to building its key.
 */
const oneLabelKeys = new Map<string, Map<string, Map<string, string>>>();
const MAX_CACHED_VALUES = 1000;

function key(name: string, labels?: Labels): string {
  if (!labels) return name;
  let only: string | undefined;
  let n = 0;
  for (const k in labels) {
    only = k;
    if (++n > 1) break;
  }
  if (n !== 1) return labelledKey(name, labels);
  let byLabel = oneLabelKeys.get(name);
  if (!byLabel) oneLabelKeys.set(name, (byLabel = new Map()));
  let byValue = byLabel.get(only!);
  if (!byValue) byLabel.set(only!, (byValue = new Map()));
  const value = labels[only!]!;
  let k = byValue.get(value);
  if (k === undefined) {
    k = labelledKey(name, labels);
    if (byValue.size < MAX_CACHED_VALUES) byValue.set(value, k);
  }
  return k;
}

function labelledKey(name: string, labels: Labels): string {
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}="${String(labels[k]).replace(/["\\\n]/g, '_')}"`);
  return `${name}{${parts.join(',')}}`;
}

export class Metrics {
  private readonly counters = new Map<string, number>();
  private readonly gauges = new Map<string, () => number>();
  private readonly help = new Map<string, string>();

  inc(name: string, labels?: Labels, by = 1): void {
    const k = key(name, labels);
    this.counters.set(k, (this.counters.get(k) ?? 0) + by);
  }

  get(name: string, labels?: Labels): number {
    return this.counters.get(key(name, labels)) ?? 0;
  }

  /** Sum of a counter over all its label sets. */
  total(name: string): number {
    let sum = 0;
    for (const [k, v] of this.counters) if (k === name || k.startsWith(`${name}{`)) sum += v;
    return sum;
  }

  gauge(name: string, read: () => number, help?: string): void {
    this.gauges.set(name, read);
    if (help) this.help.set(name, help);
  }

  describe(name: string, help: string): void {
    this.help.set(name, help);
  }

  render(): string {
    const lines: string[] = [];
    for (const [name, text] of this.help) lines.push(`# HELP ${name} ${text}`);
    for (const [k, v] of [...this.counters].sort()) lines.push(`${k} ${v}`);
    for (const [name, read] of this.gauges) lines.push(`${name} ${read()}`);
    return `${lines.join('\n')}\n`;
  }

  snapshot(): Record<string, number> {
    const out: Record<string, number> = Object.fromEntries(this.counters);
    for (const [name, read] of this.gauges) out[name] = read();
    return out;
  }
}
