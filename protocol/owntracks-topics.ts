// The OwnTracks apps' MQTT topics (owntracks.org booklet, "JSON" → Topics): `owntracks/{user}/{device}`
// for locations and the last will, `…/event` for region transitions, and a few more subtopics the
// apps publish to. Here the user is always the device id of our registry (the app's MQTT username),
// the device is the app's own `deviceId` setting. broker/topic-acl.ts repeats this grammar so the
// broker imports no gateway; tests/gateways/owntracks/owntracks-acl.test.ts keeps the two in step.

export const OWNTRACKS_ROOT = 'owntracks';

/** What the apps publish under their base topic. `cmd` is not among them: that is the hub's way in. */
export const OWNTRACKS_PUBLISH_SUBTOPICS = ['event', 'waypoint', 'waypoints', 'status', 'step', 'beacon', 'dump'] as const;
export type OwnTracksSubtopic = (typeof OWNTRACKS_PUBLISH_SUBTOPICS)[number];

/** A user or device segment: no MQTT separators or wildcards (protocol/device-api.ts OWNTRACKS_ID_PATTERN). */
export const OWNTRACKS_NAME_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

/** The app device name used when none is given (the HTTP mode without `X-Limit-D`, the setup link). */
export const DEFAULT_APP_DEVICE = 'phone';

export interface OwnTracksTopic {
  /** The MQTT username: our device id. */
  user: string;
  /** The app's `deviceId` setting. */
  device: string;
  /** null for the base topic (location, lwt). */
  sub: OwnTracksSubtopic | null;
}

export function isOwnTracksTopic(topic: string): boolean {
  return topic.startsWith(`${OWNTRACKS_ROOT}/`);
}

/** Parses an upstream OwnTracks topic; null for anything else (the caller dead-letters it). */
export function parseOwnTracksTopic(topic: string): OwnTracksTopic | null {
  const p = topic.split('/');
  if (p[0] !== OWNTRACKS_ROOT || p.length < 3 || p.length > 4) return null;
  const [, user, device, sub] = p as [string, string, string, string | undefined];
  if (!OWNTRACKS_NAME_PATTERN.test(user) || !OWNTRACKS_NAME_PATTERN.test(device)) return null;
  if (sub !== undefined && !(OWNTRACKS_PUBLISH_SUBTOPICS as readonly string[]).includes(sub)) return null;
  return { user, device, sub: (sub as OwnTracksSubtopic | undefined) ?? null };
}

export function ownTracksTopic(user: string, device: string, sub?: OwnTracksSubtopic | 'cmd'): string {
  return sub ? `${OWNTRACKS_ROOT}/${user}/${device}/${sub}` : `${OWNTRACKS_ROOT}/${user}/${device}`;
}
