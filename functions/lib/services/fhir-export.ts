import { randomUUID } from 'node:crypto';
import type { Bundle } from '@medplum/fhirtypes';
import type { Deps } from '../adapters';
import type { Actor } from '../adapters/ports';
import { NotFoundError } from '../errors';
import { referralBundle, resourceCounts } from '../domain/fhir';
import { logger } from '../logger';

// GET /api/staff/referrals/{id}/fhir: the referral as a FHIR R4 Bundle. Exporting PHI is itself
// audited: the RECORD_EXPORTED event is on the referral's timeline before the Bundle leaves.

const EXPORT_EVENT = 'RECORD_EXPORTED';

export const exportFhir = async (deps: Deps, referralId: string, actor: Actor): Promise<Bundle> => {
  const [r, intake, events] = await Promise.all([deps.repo.get(referralId), deps.repo.getIntake(referralId), deps.repo.events(referralId)]);
  if (!r || !intake) throw new NotFoundError('No referral with that id');
  const now = deps.now();
  const cfg = deps.config;
  const bundle = referralBundle({
    referral: r,
    intake,
    events,
    program: { name: cfg.PROGRAM_NAME, phone: cfg.PROGRAM_PHONE, ...(cfg.PROVIDER_NPI ? { npi: cfg.PROVIDER_NPI } : {}) },
    now,
  });
  // no audit record, no export: a failed write ends the request before any PHI is sent
  await deps.repo.appendEvent(
    referralId,
    {
      at: now.toISOString(),
      type: EXPORT_EVENT,
      actor,
      detail: { format: 'FHIR R4 Bundle (collection)', resources: resourceCounts(bundle) },
    },
    `export.${randomUUID().slice(0, 8)}`,
  );
  logger.info('referral exported', { referralId, format: 'fhir-r4' });
  return bundle;
};
