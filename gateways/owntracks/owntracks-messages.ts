// The OwnTracks payloads the hub reads, as the booklet's "JSON" page documents them
// (https://owntracks.org/booklet/tech/json/). Only what a message cannot do without is required;
// every other element is read by the translation one by one, so a strange `batt` drops that value,
// not the fix. Unknown elements pass through (the apps add new ones over time).
import { z } from 'zod';

const finite = z.number().finite();

/** `_type: location`: lat, lon (degrees) and tst (epoch seconds of the fix) are required. */
export const otLocationSchema = z.object({ _type: z.literal('location'), lat: finite, lon: finite, tst: finite }).passthrough();
export type OtLocation = z.infer<typeof otLocationSchema>;

/** `_type: lwt`: published by the broker when the app's connection is lost; tst is when it connected. */
export const otLwtSchema = z.object({ _type: z.literal('lwt'), tst: finite.optional() }).passthrough();
export type OtLwt = z.infer<typeof otLwtSchema>;

/**
 * `_type: transition`: entering or leaving a region configured in the app. `wtst` (the region's
 * creation time) and `rid` (its id, apps after January 2021) identify the region; `desc` names it.
 */
export const otTransitionSchema = z
  .object({
    _type: z.literal('transition'),
    event: z.enum(['enter', 'leave']),
    tst: finite,
    wtst: finite.optional(),
    rid: z.string().min(1).max(64).optional(),
    desc: z.string().max(500).optional(),
  })
  .passthrough();
export type OtTransition = z.infer<typeof otTransitionSchema>;

/** The `_type`s the apps send that the hub has no use for; each becomes a dead letter with its name. */
export const OT_OTHER_TYPES = [
  'waypoint',
  'waypoints',
  'card',
  'status',
  'steps',
  'beacon',
  'cmd',
  'configuration',
  'request',
  'encrypted',
] as const;
