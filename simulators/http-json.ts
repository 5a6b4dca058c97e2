// The simulated people's HTTP: JSON in, JSON out, over Node's fetch. A reply that is not 2xx is a
// result, not an exception (a 409 "not ratable yet" is part of the play); only a network failure throws.

export interface JsonReply {
  status: number;
  json: unknown;
}

export async function requestJson(
  url: string,
  init: { method?: string; body?: unknown; bearer?: string | null; timeoutMs?: number } = {},
): Promise<JsonReply> {
  const headers: Record<string, string> = {};
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  if (init.bearer) headers.authorization = `Bearer ${init.bearer}`;
  const res = await fetch(url, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers,
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    signal: AbortSignal.timeout(init.timeoutMs ?? 15_000),
  });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  return { status: res.status, json };
}

/** `obj.key` when obj is an object, else undefined: for reading replies without trusting them. */
export function field(obj: unknown, key: string): unknown {
  return typeof obj === 'object' && obj !== null ? (obj as Record<string, unknown>)[key] : undefined;
}
