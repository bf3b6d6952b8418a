import * as z from 'zod';
import { FUNNEL_CHANNELS } from '../domain/funnel';
import { calendarDate } from './common';

// query parameters of the staff reports (GET /api/staff/dashboard/funnel)

/** the longest range one funnel report covers (two years) */
const FUNNEL_MAX_DAYS = 731;

const dayNumber = (ymd: string) => Date.parse(`${ymd}T00:00:00Z`) / 86_400_000;

/** `from`/`to`: calendar days in the program's time zone, inclusive; both optional (default: the last 90 days) */
export const FunnelQuerySchema = z
  .object({
    from: calendarDate().optional(),
    to: calendarDate().optional(),
    channel: z.enum(FUNNEL_CHANNELS).default('all'),
  })
  .superRefine((q, ctx) => {
    if (!q.from || !q.to) return;
    if (q.from > q.to) ctx.addIssue({ code: 'custom', path: ['from'], message: 'The start date must be on or before the end date' });
    else if (dayNumber(q.to) - dayNumber(q.from) + 1 > FUNNEL_MAX_DAYS)
      ctx.addIssue({ code: 'custom', path: ['from'], message: `Choose at most ${FUNNEL_MAX_DAYS} days` });
  });

export type FunnelQueryInput = z.infer<typeof FunnelQuerySchema>;
