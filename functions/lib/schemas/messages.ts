// the messages the schemas give, by code. A schema names the code (`message('date.future')`); the
// API answers with the English text kept here; the intake form words every code in English and
// Spanish (web/src/intake/i18n.ts MESSAGE_KEYS, a record over these codes: a code without its words
// does not compile, and a changed English text cannot leave a translation behind).

export const SCHEMA_MESSAGES = {
  required: 'Required',
  'date.invalid': 'Enter a real date as YYYY-MM-DD',
  'date.future': 'Date cannot be in the future',
  'lastUse.beforeBirth': 'Last use cannot be before the date of birth',
  'dateOfBirth.range': 'Enter a date of birth after 1900',
  'email.invalid': 'Enter a valid email address',
  'phone.invalid': 'Enter a phone number with 10 to 15 digits',
  'zip.invalid': 'Enter a 5-digit ZIP code',
  'id.chars': 'Letters, digits and dashes only',
  'payerId.chars': 'Choose the insurance company from the list',
  'npi.length': 'Enter the NPI as 10 digits',
  'npi.check': 'Check the NPI: its check digit does not match',
  'detox.dateNotCompleted': 'Only give a completion date when detox is completed',
  'consent.shareWithoutPhysician': 'Name the physician you agree to share updates with',
  'substances.none': 'Choose at least one substance',
  'insurance.payerMissing': 'Enter the insurance company',
  'signedAt.invalid': 'Enter the signing time as an ISO 8601 date-time',
  'signedAt.future': 'Signing time cannot be in the future',
} as const;

export type MessageCode = keyof typeof SCHEMA_MESSAGES;

/** the English text of a message code (what a schema puts in its issue and the API answers) */
export const message = (code: MessageCode): string => SCHEMA_MESSAGES[code];

const CODE_OF = new Map<string, MessageCode>(Object.entries(SCHEMA_MESSAGES).map(([code, text]) => [text, code as MessageCode]));

/** the code of a message a schema gave (the browser's own check or the API's 400); undefined for zod's own texts */
export const messageCode = (text: string): MessageCode | undefined => CODE_OF.get(text);
