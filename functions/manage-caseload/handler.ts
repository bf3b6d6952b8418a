import * as z from 'zod';
import { getDeps } from '#lib/adapters/index';
import { api, referralIdOf } from '#lib/http';
import { AssignSchema, ContactSchema, RevokeConsentSchema, USERNAME_RE } from '#lib/schemas/caseload';
import { assign, caseload, logContact, revokeConsent } from '#lib/services/caseload';
import { validate } from '#lib/validate';

// GET /api/staff/caseload ("My referrals", or a colleague's with ?assignee=), and on one referral:
// POST .../assignment, .../contacts (the contact log), .../consent-revocation

const CaseloadQuery = z.object({
  assignee: z.string().trim().regex(USERNAME_RE, 'Enter a staff username').optional(),
  cursor: z.string().max(2048).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});

export const handler = api(async (req) => {
  const deps = getDeps();
  switch (req.routeKey) {
    case 'POST /api/staff/referrals/{id}/assignment':
      return { statusCode: 200, body: await assign(deps, referralIdOf(req), validate(AssignSchema, req.json), req.actor) };
    case 'POST /api/staff/referrals/{id}/contacts':
      return { statusCode: 200, body: await logContact(deps, referralIdOf(req), validate(ContactSchema, req.json), req.actor) };
    case 'POST /api/staff/referrals/{id}/consent-revocation':
      return { statusCode: 200, body: await revokeConsent(deps, referralIdOf(req), validate(RevokeConsentSchema, req.json), req.actor) };
    default: {
      const q = validate(CaseloadQuery, req.query);
      return {
        statusCode: 200,
        body: await caseload(deps, { username: q.assignee ?? req.actor.username ?? '', cursor: q.cursor, limit: q.limit }),
      };
    }
  }
});
