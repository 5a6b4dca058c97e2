// Security headers for the command screen and the API (issue 16 item 10), set by @fastify/helmet
// on every reply (the page, its assets, JSON, errors, 429s). The screen is one bundled script and
// one stylesheet from the hub itself (dashboard/build.ts), so the CSP needs no 'unsafe-inline':
// Leaflet positions its panes through the CSSOM (element.style), which a CSP does not govern;
// only style attributes in markup are refused, and the screen sets none. Images: our own, data:
// URLs (the page's empty favicon) and the base map's tile server when TILE_URL names one.
// Referrer: OpenStreetMap-style tile servers refuse requests without a Referer, so the origin is
// sent cross-site (strict-origin-when-cross-origin), never the path.
import type { FastifyHelmetOptions } from '@fastify/helmet';

/**
 * The CSP source of a tile template's server: `https://{s}.tile.example.org/{z}/{x}/{y}.png`
 * gives `https://*.tile.example.org`; a placeholder anywhere else in the host gives the scheme
 * (`https:`), the narrowest source a CSP can say for it.
 */
export function tileSource(tileUrl: string | null | undefined): string | null {
  if (!tileUrl) return null;
  const m = /^(https?):\/\/([^/?#]+)/.exec(tileUrl);
  if (!m) return null;
  const [, scheme, host] = m as unknown as [string, string, string];
  if (!host.includes('{')) return `${scheme}://${host}`;
  const sub = /^\{[a-z]+\}\.([^{}]+)$/.exec(host);
  return sub ? `${scheme}://*.${sub[1]}` : `${scheme}:`;
}

export function cspDirectives(tileUrl: string | null | undefined): Record<string, string[]> {
  const tiles = tileSource(tileUrl);
  return {
    'default-src': ["'self'"],
    'script-src': ["'self'"],
    'script-src-attr': ["'none'"],
    'style-src': ["'self'"],
    'img-src': ["'self'", 'data:', ...(tiles ? [tiles] : [])],
    // Socket.IO's polling and its WebSocket to the same host ('self' covers ws: and wss: of it).
    'connect-src': ["'self'"],
    'font-src': ["'self'"],
    'object-src': ["'none'"],
    'base-uri': ["'none'"],
    'form-action': ["'self'"],
    'frame-ancestors': ["'none'"],
  };
}

/** Options for `app.register(helmet, …)`, registered first so that every reply carries them. */
export function helmetOptions(tileUrl: string | null | undefined): FastifyHelmetOptions {
  return {
    // useDefaults off: helmet's defaults allow inline styles and upgrade-insecure-requests, which
    // would send the screen's own requests to https on a hub served over plain HTTP.
    contentSecurityPolicy: { useDefaults: false, directives: cspDirectives(tileUrl) },
    xFrameOptions: { action: 'deny' },
    referrerPolicy: { policy: 'strict-origin-when-cross-origin' },
    // Browsers heed HSTS only over TLS (a proxy's); the operator's other subdomains are not ours.
    strictTransportSecurity: { maxAge: 180 * 86_400, includeSubDomains: false },
  };
}

/**
 * TRUST_PROXY: whom to believe about the client's address and scheme (X-Forwarded-For,
 * X-Forwarded-Proto). Unset or `false`: nobody (the default; a client could otherwise pick its own
 * address to dodge the login limit). `true`: every hop (only when nothing but the proxy can
 * reach the hub); otherwise a comma-separated list of the proxies' addresses or CIDRs
 * (`127.0.0.1,10.0.0.0/8`), as fastify's trustProxy takes it.
 */
export function parseTrustProxy(value: string | undefined): boolean | string {
  const v = (value ?? '').trim();
  if (v === '' || v === 'false') return false;
  if (v === 'true') return true;
  if (!/^[0-9a-fA-F.:/,\s]+$/.test(v)) throw new Error(`TRUST_PROXY: true, false or the proxies' addresses/CIDRs, not "${v}"`);
  return v;
}
