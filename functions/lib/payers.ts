import * as z from 'zod';
import { PayerIdSchema } from './schemas/intake';

// the payer list behind the intake form's payer picker (GET /api/payers): a name a person
// recognises → the clearinghouse's payer ID (its tradingPartnerServiceId). A deployment sets its
// own with PAYER_LIST (config.ts); without it the sample below is served. No PHI.

const PayerSchema = z.object({
  name: z.string().trim().min(1).max(100),
  payerId: PayerIdSchema,
});

export type Payer = z.infer<typeof PayerSchema>;

/** a whole list: at least one payer, at most 5,000, each name and each ID once (the picker maps a name to one ID) */
export const PayerListSchema = z
  .array(PayerSchema)
  .min(1)
  .max(5000)
  .superRefine((list, ctx) => {
    const names = new Set<string>();
    for (const [i, p] of list.entries()) {
      const key = p.name.toLowerCase();
      if (names.has(key)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: 'a payer name is listed twice' });
      names.add(key);
    }
  });

/**
 * SAMPLE ONLY — a handful of well-known US payers with the payer IDs commonly used by the
 * clearinghouses (Change Healthcare / Optum, Stedi), so the picker has something to offer out of
 * the box. It is not a contract: a program replaces it with its clearinghouse's payer list
 * (PAYER_LIST, DEPLOY.md) and checks each ID there. Payers that differ by state (Blue Cross Blue
 * Shield plans, Medicaid, Molina) are left out on purpose: their IDs depend on the state.
 */
export const SAMPLE_PAYERS: readonly Payer[] = [
  { name: 'Aetna', payerId: '60054' },
  { name: 'Ambetter', payerId: '68069' },
  { name: 'Cigna', payerId: '62308' },
  { name: 'Harvard Pilgrim Health Care', payerId: '04271' },
  { name: 'Highmark Blue Cross Blue Shield', payerId: '54771' },
  { name: 'Horizon Blue Cross Blue Shield of New Jersey', payerId: '22099' },
  { name: 'Humana', payerId: '61101' },
  { name: 'Medicare (CMS)', payerId: 'CMS' },
  { name: 'Tufts Health Plan', payerId: '04245' },
  { name: 'UnitedHealthcare', payerId: '87726' },
  { name: 'WellCare', payerId: '14163' },
];

/** the list as GET /api/payers answers it: sorted by name, so the picker offers it alphabetically */
export const sortedPayers = (list: readonly Payer[]): Payer[] => [...list].sort((a, b) => a.name.localeCompare(b.name, 'en'));
