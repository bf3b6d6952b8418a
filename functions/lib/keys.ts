/**
 * The table, its keys and every access pattern. Read this list and you know the table.
 *
 * | # | access pattern                                   | index | key condition                                              |
 * |---|--------------------------------------------------|-------|------------------------------------------------------------|
 * | 1 | referral by id (status, gate, codes; no PHI)     | table | pk = REFERRAL#<id>, sk = META                              |
 * | 1b| the intake (PHI; a re-check corrects insurance)   | table | pk = REFERRAL#<id>, sk = INTAKE                            |
 * | 2 | timeline (audit events) of a referral, in order  | table | pk = REFERRAL#<id>, sk begins_with EVENT# (EVENT#<iso>#<n>)|
 * | 3 | a notice's timeline event, written once when sent| table | pk = REFERRAL#<id>, sk = EVENT#notice#<key>                |
 * | 3b| the outbox: notices of a referral (any state)    | table | pk = REFERRAL#<id>, sk begins_with NOTICE#                 |
 * | 3c| notices due to be sent (sparse; gone once sent)  | gsi1  | gsi1pk = NOTICES#DUE, gsi1sk <= <now iso>#… (<dueAt>#<id>#<key>) |
 * | 4 | referral id by its short reference               | table | pk = REFERENCE#<reference>, sk = META                      |
 * | 5 | work queue of a status, urgent first, oldest 1st | gsi1  | gsi1pk = STATUS#<status>, gsi1sk = <0 urgent|1>#<iso>#<id> |
 * |5b| the waitlist, longest waiting first              | gsi1  | gsi1pk = STATUS#WAITLISTED, gsi1sk = 1#<waitlisted iso>#<id> |
 * | 6 | all referrals, newest first (search, dashboard)  | gsi2  | gsi2pk = REFERRALS, gsi2sk = <receivedAt iso>#<id>         |
 * | 7 | cohort by id (seat counter `seats`, `capacity`)  | table | pk = COHORT#<id>, sk = META                                |
 * | 8 | roster of a cohort                               | table | pk = COHORT#<id>, sk begins_with SEAT#                     |
 * | 9 | cohorts by start date                            | gsi2  | gsi2pk = COHORTS, gsi2sk = <startDate>#<id>                |
 * |10 | intake idempotency record (expires by TTL)       | table | pk = IDEMPOTENCY#<key>, sk = META                          |
 * |11 | a cohort name taken on a start date (unique)     | table | pk = COHORTNAME#<startDate>#<name, lower-case>, sk = META  |
 * |12 | open referrals of one staff member ("My referrals", sparse: only while assigned and not closed), urgent first, oldest first | gsi3 | gsi3pk = OWNER#<username>, gsi3sk = <0 urgent|1>#<receivedAt iso>#<id> |
 *
 * The intake lives apart from META so the many small status writes stay under 1 KB (one write unit)
 * and list queries never read PHI they don't show.
 *
 * Writes: every status change is one TransactWriteItems of the referral update (conditional on the
 * expected current version) and its EVENT items, plus the NOTICE items (outbox) of the emails it
 * causes; an enrollment adds the cohort seat increment (condition seats < capacity) and the SEAT
 * item to the same transaction, a no-show or a withdrawal of an enrolled person the decrement and
 * the SEAT item's removal. The table's stream (NEW_IMAGE) hands each new NOTICE item to
 * send-notices; a notice whose send failed stays in the due index (3c) for sweep to retry.
 */

/** the key definition shared by the CDK stack and the local runtime's table creation */
export const tableDefinition = {
  partitionKey: 'pk',
  sortKey: 'sk',
  timeToLiveAttribute: 'expiresAt',
  /** the outbox is read from the table's stream (send-notices) */
  stream: 'NEW_IMAGE',
  globalSecondaryIndexes: [
    { indexName: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
    { indexName: 'gsi2', partitionKey: 'gsi2pk', sortKey: 'gsi2sk' },
    { indexName: 'gsi3', partitionKey: 'gsi3pk', sortKey: 'gsi3sk' },
  ],
} as const;

/** every attribute that is part of a table or index key: the cursor's allowed names, and what reads strip */
export const KEY_ATTRIBUTES: readonly string[] = [
  tableDefinition.partitionKey,
  tableDefinition.sortKey,
  ...tableDefinition.globalSecondaryIndexes.flatMap((i) => [i.partitionKey, i.sortKey]),
];

export const META = 'META';

export const keys = {
  referral: (id: string) => ({ pk: `REFERRAL#${id}`, sk: META }),
  intake: (id: string) => ({ pk: `REFERRAL#${id}`, sk: 'INTAKE' }),
  /** suffix keeps two events of the same millisecond apart (version.index, or random) */
  event: (id: string, at: string, suffix: string) => ({ pk: `REFERRAL#${id}`, sk: `EVENT#${at}#${suffix}` }),
  eventPrefix: 'EVENT#',
  /** a notice's own event item: its fixed key makes sending once per notice a conditional put */
  notice: (id: string, noticeKey: string) => ({ pk: `REFERRAL#${id}`, sk: `EVENT#notice#${noticeKey}` }),
  outbox: (id: string, noticeKey: string) => ({ pk: `REFERRAL#${id}`, sk: `NOTICE#${noticeKey}` }),
  outboxPrefix: 'NOTICE#',
  /** the due index: present while a notice waits to be sent (pending) or is being sent (lease) */
  due: (dueAt: string, id: string, noticeKey: string) => ({ gsi1pk: 'NOTICES#DUE', gsi1sk: `${dueAt}#${id}#${noticeKey}` }),
  duePk: 'NOTICES#DUE',
  reference: (reference: string) => ({ pk: `REFERENCE#${reference}`, sk: META }),
  cohort: (id: string) => ({ pk: `COHORT#${id}`, sk: META }),
  seat: (cohortId: string, referralId: string) => ({ pk: `COHORT#${cohortId}`, sk: `SEAT#${referralId}` }),
  seatPrefix: 'SEAT#',
  idempotency: (key: string) => ({ pk: `IDEMPOTENCY#${key}`, sk: META }),
  /** one item per (start date, name): creating a cohort puts it on condition it does not exist */
  cohortName: (startDate: string, name: string) => ({
    pk: `COHORTNAME#${startDate}#${name.normalize('NFC').trim().replace(/\s+/g, ' ').toLowerCase()}`,
    sk: META,
  }),
  /** the caseload index of an open, assigned referral */
  owner: (username: string, urgent: boolean, receivedAt: string, id: string) => ({
    gsi3pk: `OWNER#${username}`,
    gsi3sk: `${urgent ? 0 : 1}#${receivedAt}#${id}`,
  }),
  ownerPk: (username: string) => `OWNER#${username}`,
  queue: (status: string, urgent: boolean, receivedAt: string, id: string) => ({
    gsi1pk: `STATUS#${status}`,
    gsi1sk: `${urgent ? 0 : 1}#${receivedAt}#${id}`,
  }),
  queuePk: (status: string) => `STATUS#${status}`,
  allReferrals: (receivedAt: string, id: string) => ({ gsi2pk: 'REFERRALS', gsi2sk: `${receivedAt}#${id}` }),
  allReferralsPk: 'REFERRALS',
  allCohorts: (startDate: string, id: string) => ({ gsi2pk: 'COHORTS', gsi2sk: `${startDate}#${id}` }),
  allCohortsPk: 'COHORTS',
} as const;
