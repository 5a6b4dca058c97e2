// OwnTracks → native contract, from the payloads the booklet documents (fixtures/).
import { describe, expect, it } from 'vitest';
import { translateOwnTracks, transitionEventId, type Translation } from '../../../gateways/owntracks/owntracks-translate.js';
import { fixture } from './owntracks-fixtures.js';

const NOW = Date.parse('2025-11-25T08:30:00Z');

function ok(t: Translation): Extract<Translation, { ok: true }> {
  if (!t.ok) throw new Error(`refused: ${t.reason}`);
  return t;
}

function refused(t: Translation): string {
  if (t.ok) throw new Error(`translated: ${JSON.stringify(t.messages)}`);
  return t.reason;
}

describe('location', () => {
  it('maps an Android fix: tst s → ms, vel km/h → m/s, cog → heading, batt → battery, extras kept', () => {
    const t = ok(translateOwnTracks(fixture('location-android.json'), NOW));
    expect(t.type).toBe('location');
    expect(t.messages).toEqual([
      {
        channel: 'location',
        body: {
          ts: 1764057600_000,
          lat: 27.87123,
          lon: 113.12456,
          crs: 'wgs84',
          acc: 12,
          alt: 61,
          speed: 1.39,
          speedKmh: 5,
          heading: 270,
          battery: 87,
          bs: 1,
          conn: 'm',
          created_at: 1764057605,
          t: 't',
          source: 'owntracks',
        },
      },
    ]);
  });

  it('maps an iOS fix with extended data; the elements the hub has no column for stay out', () => {
    const body = ok(translateOwnTracks(fixture('location-ios.json'), NOW)).messages[0]!.body;
    expect(body).toMatchObject({ ts: 1764057659_000, speed: 15, speedKmh: 54, heading: 359, battery: 54, bs: 2, conn: 'w', t: 'u' });
    expect(body).not.toHaveProperty('SSID');
    expect(body).not.toHaveProperty('inregions');
  });

  it('leaves what the app omitted (it omits acc, alt, cog, vel when zero) unknown, never 0', () => {
    const body = ok(translateOwnTracks(fixture('location-minimal.json'), NOW)).messages[0]!.body;
    expect(body).toEqual({ ts: 1764057700_000, lat: 27.86, lon: 113.11, crs: 'wgs84', source: 'owntracks' });
    for (const k of ['acc', 'alt', 'speed', 'heading', 'battery']) expect(body).not.toHaveProperty(k);
  });

  it('keeps a zero the app did send', () => {
    const payload = Buffer.from(JSON.stringify({ _type: 'location', lat: 27.86, lon: 113.11, tst: 1764057700, vel: 0, cog: 0, batt: 0 }));
    expect(ok(translateOwnTracks(payload, NOW)).messages[0]!.body).toMatchObject({ speed: 0, heading: 0, battery: 0 });
  });

  it('drops out-of-range elements (iOS -1 for no course or speed, batt 150) but keeps the fix', () => {
    const body = ok(translateOwnTracks(fixture('location-wild-values.json'), NOW)).messages[0]!.body;
    expect(body).toEqual({ ts: 1764057710_000, lat: 27.86, lon: 113.11, crs: 'wgs84', source: 'owntracks' });
  });

  it("refuses a fix the contract refuses, with the contract's reason", () => {
    expect(refused(translateOwnTracks(fixture('location-bad-lat.json'), NOW))).toMatch(/^owntracks_invalid: lat: /);
    // A phone whose clock reads 1970: refused, not guessed (protocol/schemas.ts timestamp).
    expect(refused(translateOwnTracks(fixture('location-dead-rtc.json'), NOW))).toMatch(/^owntracks_invalid: ts: /);
  });

  it('refuses coordinates sent as strings (the booklet types them as numbers)', () => {
    expect(refused(translateOwnTracks(fixture('location-string-coords.json'), NOW))).toMatch(/^owntracks_invalid: lat: /);
  });
});

describe('lwt', () => {
  it('becomes offline presence dated on arrival: its tst is when the app connected', () => {
    const t = ok(translateOwnTracks(fixture('lwt.json'), NOW));
    expect(t.messages).toEqual([
      { channel: 'presence', body: { online: false, ts: NOW, connectedAt: 1764050000_000, source: 'owntracks' } },
    ]);
  });
});

describe('transition', () => {
  it('becomes handset.geofence_enter with the region and where it happened', () => {
    const t = ok(translateOwnTracks(fixture('transition-enter.json'), NOW));
    expect(t.messages).toEqual([
      {
        channel: 'events',
        body: {
          ts: 1764057800_000,
          type: 'handset.geofence_enter',
          eventId: 'owntracks:enter:f7676c:1764057800',
          severity: 'info',
          data: {
            source: 'owntracks',
            region: '幸福社区服务站',
            rid: 'f7676c',
            wtst: 1761000000,
            lat: 27.87069,
            lon: 113.12916,
            crs: 'wgs84',
            acc: 14,
            t: 'c',
          },
        },
      },
    ]);
  });

  it('names the region by its creation time when an older app sends no rid', () => {
    const body = ok(translateOwnTracks(fixture('transition-leave-old-app.json'), NOW)).messages[0]!.body;
    expect(body).toMatchObject({ type: 'handset.geofence_leave', eventId: 'owntracks:leave:w1761000100:1764057900' });
  });

  it('gives a repeat the same eventId, and another region or time another one', () => {
    const a = transitionEventId({ event: 'enter', tst: 1, desc: '站' });
    expect(transitionEventId({ event: 'enter', tst: 1, desc: '站' })).toBe(a);
    expect(transitionEventId({ event: 'enter', tst: 1, desc: '另一站' })).not.toBe(a);
    expect(transitionEventId({ event: 'enter', tst: 2, desc: '站' })).not.toBe(a);
    expect(transitionEventId({ event: 'leave', tst: 1, desc: '站' })).not.toBe(a);
  });

  it('refuses an event that is neither enter nor leave', () => {
    expect(refused(translateOwnTracks(fixture('transition-bad-event.json'), NOW))).toMatch(/^owntracks_invalid: event: /);
  });
});

describe('everything else is a rejection with a reason, never an exception', () => {
  it.each([
    ['waypoint.json', 'owntracks_unsupported_type: waypoint'],
    ['card.json', 'owntracks_unsupported_type: card'],
    ['status.json', 'owntracks_unsupported_type: status'],
    ['steps.json', 'owntracks_unsupported_type: steps'],
    ['encrypted.json', 'owntracks_unsupported_type: encrypted (turn payload encryption off in the app)'],
    ['future-type.json', 'owntracks_unknown_type: hologram'],
    ['no-type.json', 'owntracks_no_type: no _type element'],
    ['array.json', 'owntracks_not_object: the payload must be one JSON object'],
  ])('%s', (name, reason) => {
    expect(refused(translateOwnTracks(fixture(name), NOW))).toBe(reason);
  });

  it('bad JSON and an empty payload', () => {
    expect(refused(translateOwnTracks(fixture('truncated.txt'), NOW))).toMatch(/^owntracks_bad_json: /);
    expect(refused(translateOwnTracks(Buffer.alloc(0), NOW))).toMatch(/^owntracks_empty: /);
    expect(refused(translateOwnTracks(Buffer.from('null'), NOW))).toMatch(/^owntracks_not_object/);
    expect(refused(translateOwnTracks(Buffer.from([0xff, 0xfe, 0x00]), NOW))).toMatch(/^owntracks_bad_json/);
  });
});
