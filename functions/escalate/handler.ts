import * as z from 'zod';
import { getDeps } from '#lib/adapters/index';
import { task } from '#lib/task';
import { escalate } from '#lib/services/workflow-tasks';
import { GATES, type GateStatus } from '#lib/domain/workflow';

// workflow task: a gate's SLA breach, or a task that kept failing

const Gate = z.enum(Object.keys(GATES) as [GateStatus, ...GateStatus[]]);
const Input = z.discriminatedUnion('kind', [
  z.object({ referralId: z.string().min(1), kind: z.literal('breach'), status: Gate }),
  z.object({ referralId: z.string().min(1), kind: z.literal('failure'), error: z.string().optional() }),
]);

export const handler = task(Input, (input) => escalate(getDeps(), input));
