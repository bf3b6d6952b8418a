import * as z from 'zod';
import { getDeps } from '#lib/adapters/index';
import { task } from '#lib/task';
import { openGate } from '#lib/services/workflow-tasks';
import { GATES, type GateStatus } from '#lib/domain/workflow';

// workflow task (callback): store the gate's task token (a staff decision resumes it); tell the
// consenting referrer of an accepted evaluation

const Input = z.object({
  referralId: z.string().min(1),
  status: z.enum(Object.keys(GATES) as [GateStatus, ...GateStatus[]]),
  taskToken: z.string().min(1),
  timeoutSeconds: z.number().int().positive().optional(),
});

export const handler = task(Input, (input) => openGate(getDeps(), input));
