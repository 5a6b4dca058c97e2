// The body of POST /api/incidents/:id/actions as one zod schema: the hub's route takes its JSON
// Schema from it (ajv refuses unknown fields and types before the handler runs) and checks the rule
// JSON Schema cannot say (`workerId` exactly with the on-behalf actions) with zod in the handler.
import { z } from 'zod';
import { ON_BEHALF_ACTIONS, OPERATOR_ACTIONS, type OnBehalfAction } from './http-api.js';

export const incidentActionBodySchema = z
  .object({
    type: z.enum([...OPERATOR_ACTIONS, ...ON_BEHALF_ACTIONS]),
    expectedVersion: z.number().int().min(1),
    reason: z.string().min(1).max(500).optional(),
    toLevel: z.number().int().min(1).max(3).optional(),
    /** The assignee an on-behalf action is recorded for (must be the case's assignee). */
    workerId: z.string().min(1).max(128).optional(),
  })
  .strict()
  .superRefine((b, ctx) => {
    const onBehalf = (ON_BEHALF_ACTIONS as readonly string[]).includes(b.type);
    if (onBehalf && b.workerId === undefined)
      ctx.addIssue({ code: 'custom', path: ['workerId'], message: `${b.type} needs the workerId it is recorded for` });
    if (!onBehalf && b.workerId !== undefined)
      ctx.addIssue({ code: 'custom', path: ['workerId'], message: `${b.type} is not recorded on anyone's behalf: no workerId` });
  });
export type IncidentActionBody = z.infer<typeof incidentActionBodySchema>;

export const isOnBehalfAction = (type: string): type is OnBehalfAction => (ON_BEHALF_ACTIONS as readonly string[]).includes(type);
