import type { EligibilityResult } from '../schemas/views';
import type { EligibilitySubject } from './eligibility';

// the clearinghouse's real-time eligibility JSON ("eligibility v3" of Change Healthcare / Optum, also
// served by Stedi): the 270 request we send and how we read the 271 answer (docs/ARCHITECTURE.md §9).
// Pure (no Node APIs): the adapter does the HTTP, this decides. Every summary and reason holds codes
// and plain words only — never the member ID, name or date of birth.

/** what the program says about itself in every inquiry (PROVIDER_NAME, PROVIDER_NPI) */
export interface InquiringProvider {
  organizationName: string;
  npi: string;
}

export interface EligibilityRequest {
  controlNumber: string;
  tradingPartnerServiceId: string;
  provider: InquiringProvider;
  subscriber: { memberId: string; firstName: string; lastName: string; dateOfBirth: string };
  encounter: { serviceTypeCodes: string[] };
}

/**
 * one request of the workflow may take this long (payers may take up to a minute to answer a
 * real-time inquiry; most answer in seconds); a check is request + ELIGIBILITY_RETRY_SECONDS + request at most
 */
export const REQUEST_TIMEOUT_MS = 25_000;

/** one request a case worker waits on (the re-check, behind the API's 10 s) may take this long */
export const WAITING_REQUEST_TIMEOUT_MS = 8_000;

/** X12 service types: AI substance abuse, MH mental health, 30 health benefit plan coverage */
const SERVICE_TYPE = { substanceUse: 'AI', mentalHealth: 'MH', planCoverage: '30' } as const;

/** the plain meaning of each reason code a case worker may see (AAA codes: X12 271 AAA03 reject reasons) */
const REASON_MEANINGS: Record<string, string> = {
  'AAA-04': 'Authorized quantity of inquiries exceeded',
  'AAA-15': 'Required information missing from the inquiry',
  'AAA-33': 'The payer found errors in the inquiry',
  'AAA-41': 'The payer restricts access to this information',
  'AAA-42': 'The payer could not respond at the moment',
  'AAA-43': 'Invalid or missing provider ID (NPI)',
  'AAA-44': 'Invalid or missing provider name',
  'AAA-45': 'Invalid or missing provider specialty',
  'AAA-47': 'Invalid or missing provider state',
  'AAA-50': 'The provider may not send inquiries to this payer',
  'AAA-51': 'The provider is not on file with this payer',
  'AAA-52': 'The service date is outside the provider’s enrollment with this plan',
  'AAA-53': 'The service asked about does not fit the provider type',
  'AAA-56': 'Inappropriate date',
  'AAA-57': 'Invalid or missing date of service',
  'AAA-58': 'Invalid or missing date of birth',
  'AAA-60': 'The date of birth is after the date of service',
  'AAA-62': 'The date of service is outside what the payer answers for',
  'AAA-63': 'The date of service is in the future',
  'AAA-64': 'Invalid or missing patient ID',
  'AAA-65': 'Invalid or missing patient name',
  'AAA-67': 'Patient not found',
  'AAA-68': 'Duplicate patient ID',
  'AAA-71': 'The date of birth does not match the payer’s record',
  'AAA-72': 'Invalid or missing member ID',
  'AAA-73': 'Invalid or missing subscriber name',
  'AAA-75': 'Subscriber not found',
  'AAA-76': 'Duplicate member ID: the payer found more than one subscriber',
  'AAA-77': 'Subscriber found, patient not found',
  'AAA-78': 'The subscriber is not in the group or plan given',
  'AAA-79': 'Invalid participant: the payer ID is not known to the clearinghouse or not taking inquiries',
  'AAA-80': 'No response received from the payer',
  'AAA-97': 'Invalid or missing provider address',
  'AAA-T4': 'Payer name or ID missing',
  AUTH_REQUIRED: 'Coverage is active, but the payer requires prior authorization for substance use treatment',
  COVERAGE_PENDING: 'The payer reports the coverage as pending an update or an investigation',
  NO_STATUS: 'The payer did not say whether substance use treatment (AI) or the plan (30) is covered',
  BUSY: 'The payer or clearinghouse could not answer now: try the check again later',
  TIMEOUT: 'The clearinghouse did not answer in time: try the check again later',
  UNREACHABLE: 'The clearinghouse could not be reached: try the check again later',
  BAD_RESPONSE: 'The clearinghouse answered with something that is not an eligibility response',
  KEY_UNAVAILABLE: 'The clearinghouse API key could not be read: tell the administrator',
  NO_PAYER_ID: 'The payer was given by name only: choose it from the payer list to check eligibility',
  NO_MEMBER_ID: 'No member ID was given',
};

/** the meaning of a reason code; an unknown AAA code or HTTP status gets a generic one */
export const meaningOf = (code: string): string => {
  const known = REASON_MEANINGS[code];
  if (known) return known;
  if (code.startsWith('AAA-')) return `The payer rejected the inquiry (X12 reject reason ${code.slice(4)})`;
  const http = /^HTTP_(\d{3})$/.exec(code);
  if (http) {
    const status = Number(http[1]);
    if (status === 401 || status === 403) return `The clearinghouse refused the API key (HTTP ${status}): tell the administrator`;
    if (status === 429) return 'The clearinghouse had too many checks at once (HTTP 429): try the check again later';
    if (status >= 500) return `The clearinghouse failed (HTTP ${status}): try the check again later`;
    return `The clearinghouse refused the inquiry (HTTP ${status})`;
  }
  return code;
};

/** an unclear result with its reason, as the case worker sees it */
export const unclear = (
  code: string,
  checkedAt: string,
  payerId?: string,
  extra: Pick<EligibilityResult, 'benefits'> = {},
): EligibilityResult => ({
  outcome: 'unclear',
  checkedAt,
  summary: `Unclear (${code}): ${meaningOf(code)}`,
  source: 'clearinghouse',
  ...(payerId ? { payerId } : {}),
  reason: { code, meaning: meaningOf(code) },
  ...extra,
});

/**
 * What is decided before any request: self-pay needs none; a payer given by name only, or no member
 * ID, goes to a case worker with no request sent. `undefined`: send the inquiry.
 */
export const beforeInquiry = (subject: EligibilitySubject, checkedAt: string): EligibilityResult | undefined => {
  const { insurance } = subject;
  if (insurance.type === 'self-pay')
    return { outcome: 'self-pay', checkedAt, summary: 'Self-pay: no eligibility inquiry sent', source: 'clearinghouse' };
  if (!insurance.payerId) return unclear('NO_PAYER_ID', checkedAt);
  if (!insurance.memberId) return unclear('NO_MEMBER_ID', checkedAt, insurance.payerId);
  return undefined;
};

/** YYYY-MM-DD (the intake's date) → YYYYMMDD (the format's) */
const compactDate = (date: string): string => date.replace(/-/g, '');

/** the inquiry; `controlNumber` is 9 digits, new for each request (the adapter draws it) */
export const eligibilityRequest = (subject: EligibilitySubject, provider: InquiringProvider, controlNumber: string): EligibilityRequest => {
  const { insurance, patient } = subject;
  if (!insurance.payerId || !insurance.memberId) throw new Error('eligibilityRequest: payer ID and member ID are required');
  if (!/^\d{9}$/.test(controlNumber)) throw new Error('eligibilityRequest: the control number is 9 digits');
  return {
    controlNumber,
    tradingPartnerServiceId: insurance.payerId,
    provider: { organizationName: provider.organizationName, npi: provider.npi },
    subscriber: {
      memberId: insurance.memberId,
      firstName: patient.firstName,
      lastName: patient.lastName,
      dateOfBirth: compactDate(patient.dateOfBirth),
    },
    encounter: {
      serviceTypeCodes: subject.coOccurring?.length ? [SERVICE_TYPE.substanceUse, SERVICE_TYPE.mentalHealth] : [SERVICE_TYPE.substanceUse],
    },
  };
};

/** how one answer reads: a result to store, or busy (AAA 42 / 80: ask again after the delay) */
export type Reading = { kind: 'result'; result: EligibilityResult } | { kind: 'busy'; code: string };

/** AAA codes that mean "not now" rather than "no": worth one more try */
const BUSY_CODES = new Set(['42', '80']);
const ACTIVE = new Set(['1', '2', '3', '4']);
const INACTIVE = new Set(['6']);
const PENDING = new Set(['5', '7', '8']);

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const arrayOf = (v: unknown): Json[] => (Array.isArray(v) ? v.filter(isObject) : []);
const text = (v: unknown): string | undefined => (typeof v === 'string' ? v.trim() : typeof v === 'number' ? String(v) : undefined);
const serviceTypesOf = (entry: Json): string[] => {
  const codes = entry.serviceTypeCodes ?? entry.serviceTypeCode;
  if (Array.isArray(codes)) return codes.map(text).filter((c): c is string => c !== undefined);
  const one = text(codes);
  return one ? [one] : [];
};
/** a non-negative amount, from a number or a numeric string */
const amount = (v: unknown): number | undefined => {
  const s = text(v);
  if (s === undefined || !/^\d+(\.\d+)?$/.test(s)) return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
};

/** the AAA codes anywhere the format puts them: errors[] at the top, aaaErrors[] of payer, provider, subscriber */
const aaaCodesOf = (body: Json): string[] => {
  const lists = [
    body.errors,
    ...['payer', 'provider', 'subscriber', 'dependents'].map((k) => (isObject(body[k]) ? body[k].aaaErrors : undefined)),
  ];
  return lists
    .flatMap(arrayOf)
    .map((e) => text(e.code))
    .filter((c): c is string => c !== undefined && /^[A-Z0-9]{1,3}$/i.test(c))
    .map((c) => c.toUpperCase());
};

/** the status entries (code or statusCode) for one service type, from benefitsInformation and planStatus */
const statusCodesFor = (body: Json, serviceType: string): string[] => {
  const fromBenefits = arrayOf(body.benefitsInformation)
    .filter((b) => serviceTypesOf(b).includes(serviceType))
    .map((b) => text(b.code))
    .filter((c): c is string => c !== undefined && (ACTIVE.has(c) || INACTIVE.has(c) || PENDING.has(c)));
  const fromPlan = arrayOf(body.planStatus)
    .filter((p) => serviceTypesOf(p).includes(serviceType))
    .map((p) => text(p.statusCode))
    .filter((c): c is string => c !== undefined && (ACTIVE.has(c) || INACTIVE.has(c) || PENDING.has(c)));
  return [...fromBenefits, ...fromPlan];
};

/** in-network entries first (Y, then W "not applicable"/unsaid), individual before family; out-of-network (N) left out */
const networkRank = (b: Json): number => {
  const net = text(b.inPlanNetworkIndicatorCode);
  const level = text(b.coverageLevelCode);
  return (net === 'Y' ? 0 : 2) + (level === 'FAM' ? 1 : 0);
};

const benefitsFor = (body: Json, serviceType: string): NonNullable<EligibilityResult['benefits']> => {
  const entries = arrayOf(body.benefitsInformation)
    .filter((b) => serviceTypesOf(b).includes(serviceType) && text(b.inPlanNetworkIndicatorCode) !== 'N')
    .sort((a, b) => networkRank(a) - networkRank(b));
  const first = <T>(pick: (b: Json) => T | undefined): T | undefined => {
    for (const b of entries) {
      const v = pick(b);
      if (v !== undefined) return v;
    }
    return undefined;
  };
  const copay = first((b) => (text(b.code) === 'B' ? amount(b.benefitAmount) : undefined));
  const coinsurance = first((b) => (text(b.code) === 'A' ? amount(b.benefitPercent) : undefined));
  const remaining = first((b) =>
    text(b.code) === 'C' && (text(b.timeQualifierCode) === '29' || text(b.timeQualifier)?.toLowerCase() === 'remaining')
      ? amount(b.benefitAmount)
      : undefined,
  );
  return {
    ...(copay !== undefined ? { copay } : {}),
    // EB08 is a decimal fraction (0.2 = 20 %); some payers send 20 for 20 %
    ...(coinsurance !== undefined && coinsurance <= 100
      ? { coinsurancePercent: Math.round((coinsurance <= 1 ? coinsurance * 100 : coinsurance) * 100) / 100 }
      : {}),
    ...(remaining !== undefined ? { deductibleRemaining: remaining } : {}),
  };
};

const describeBenefits = (b: NonNullable<EligibilityResult['benefits']>): string => {
  const parts = [
    b.copay !== undefined ? `copay $${b.copay}` : undefined,
    b.coinsurancePercent !== undefined ? `coinsurance ${b.coinsurancePercent} %` : undefined,
    b.deductibleRemaining !== undefined ? `deductible remaining $${b.deductibleRemaining}` : undefined,
  ].filter(Boolean);
  return parts.length ? `; in network: ${parts.join(', ')}` : '';
};

/**
 * Reads a 271 answer (the response body as text). Never throws: text that is not JSON, or JSON of
 * another shape, is an unclear result (BAD_RESPONSE).
 */
export const readEligibilityResponse = (bodyText: string, checkedAt: string, payerId: string): Reading => {
  const result = (r: EligibilityResult): Reading => ({ kind: 'result', result: r });
  let body: unknown;
  try {
    body = JSON.parse(bodyText);
  } catch {
    return result(unclear('BAD_RESPONSE', checkedAt, payerId));
  }
  if (!isObject(body)) return result(unclear('BAD_RESPONSE', checkedAt, payerId));

  const aaa = aaaCodesOf(body);
  const busy = aaa.find((c) => BUSY_CODES.has(c));
  if (busy) return { kind: 'busy', code: `AAA-${busy}` };
  if (aaa.length) return result(unclear(`AAA-${aaa[0]}`, checkedAt, payerId));

  if (!Array.isArray(body.benefitsInformation) && !Array.isArray(body.planStatus))
    return result(unclear('BAD_RESPONSE', checkedAt, payerId));

  // AI when the payer answers for it, else 30 (the plan as a whole)
  const serviceType = [SERVICE_TYPE.substanceUse, SERVICE_TYPE.planCoverage].find((s) => statusCodesFor(body, s).length > 0);
  if (!serviceType) return result(unclear('NO_STATUS', checkedAt, payerId));
  const codes = statusCodesFor(body, serviceType);
  const benefits = benefitsFor(body, serviceType);
  const withBenefits = Object.keys(benefits).length ? { benefits } : {};

  if (codes.some((c) => ACTIVE.has(c))) {
    const authRequired = arrayOf(body.benefitsInformation).some(
      (b) => serviceTypesOf(b).includes(SERVICE_TYPE.substanceUse) && text(b.authOrCertIndicator) === 'Y',
    );
    if (authRequired) return result(unclear('AUTH_REQUIRED', checkedAt, payerId, withBenefits));
    return result({
      outcome: 'covered',
      checkedAt,
      summary: `271 EB*1 (active coverage) for service type ${serviceType}${describeBenefits(benefits)}`,
      source: 'clearinghouse',
      payerId,
      ...withBenefits,
    });
  }
  if (codes.some((c) => INACTIVE.has(c)))
    return result({
      outcome: 'not-covered',
      checkedAt,
      summary: `271 EB*6 (inactive coverage) for service type ${serviceType}`,
      source: 'clearinghouse',
      payerId,
    });
  return result(unclear('COVERAGE_PENDING', checkedAt, payerId));
};
