// The words of an incident that cross the wire (a patrol report's priority, a command screen's
// incident view) and that the hub's state machine and SLA table use, declared once. The states stay
// with the state machine (hub/dispatch/incident-state-machine.ts): the screen treats them as text.
// The zod enums are marked pure so a browser bundle that takes only the constants carries no zod.
import { z } from 'zod';

/** How urgent a case is; the SLA table sets minutes per priority (hub/dispatch/sla-policy.ts). */
export const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
export const prioritySchema = /* @__PURE__ */ z.enum(PRIORITIES);
export type Priority = z.infer<typeof prioritySchema>;

/** Where a case came from: a door/camera alert, a worker's patrol report, a resident (12345), an operator. */
export const INCIDENT_SOURCES = ['device_alert', 'patrol_report', 'resident', 'operator'] as const;
export const incidentSourceSchema = /* @__PURE__ */ z.enum(INCIDENT_SOURCES);
export type IncidentSource = z.infer<typeof incidentSourceSchema>;
