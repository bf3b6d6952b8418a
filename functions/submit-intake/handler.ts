import { getDeps } from '#lib/adapters/index';
import { api } from '#lib/http';
import { IDEMPOTENCY_KEY_PATTERN } from '#lib/schemas/common';
import { IntakeSchema } from '#lib/schemas/intake';
import { submitIntake } from '#lib/services/referrals';
import { ValidationError } from '#lib/errors';
import { validate } from '#lib/validate';

// POST /api/referrals (public web form) and POST /api/staff/referrals (phone intake by staff)

export const handler = api(async (req) => {
  const intake = validate(IntakeSchema, req.json);
  const key = req.headers['idempotency-key'];
  if (key !== undefined && !IDEMPOTENCY_KEY_PATTERN.test(key))
    throw new ValidationError('Idempotency-Key must be 8–128 letters, digits, - or _', { 'Idempotency-Key': ['Invalid format'] });
  const phone = req.routeKey === 'POST /api/staff/referrals';
  const { response, replayed } = await submitIntake(getDeps(), intake, {
    channel: phone ? 'phone' : 'web',
    actor: phone ? req.actor : { kind: 'patient' },
    idempotencyKey: key,
  });
  const headers: Record<string, string> = replayed ? { 'idempotent-replayed': 'true' } : {};
  return { statusCode: 201, body: response, headers };
});
