// One series of a running node's /metrics (Prometheus text), for tests that watch a node process.
/** The value of the series whose line starts with `series` (name plus labels, as printed), or null if absent. */
export async function scrapeMetric(baseUrl: string, series: string): Promise<number | null> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.split(' ').pop()) : null;
}
