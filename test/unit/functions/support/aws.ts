import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { simpleParser, type ParsedMail } from 'mailparser';
import { cohortItem, intakeItem, metaItem, noticeItem } from './fixtures';
import type { CohortRecord, NoticeRecord, ReferralRecord } from '../../../../functions/lib/adapters/ports';
import type { Intake } from '../../../../functions/lib/schemas/intake';

// the AWS SDK clients the handlers build at module scope, mocked at the class so every instance answers

export const mocks = () => ({
  ddb: mockClient(DynamoDBDocumentClient),
  sfn: mockClient(SFNClient),
  ses: mockClient(SESv2Client),
});

export type Mocks = ReturnType<typeof mocks>;

/** the default answers: reads find nothing (tests store what they read), writes and sends succeed */
export const answerDefaults = (m: Mocks): void => {
  m.ddb.on(GetCommand).resolves({});
  m.ddb.on(TransactWriteCommand).resolves({});
  m.ddb.on(PutCommand).resolves({});
  m.ddb.on(UpdateCommand).resolves({});
  m.ddb.on(QueryCommand).resolves({ Items: [] });
  m.ses.on(SendEmailCommand).resolves({ MessageId: 'ses-message-1' });
};

export const resetMocks = (m: Mocks): void => {
  m.ddb.reset();
  m.sfn.reset();
  m.ses.reset();
};

/** a TransactWriteItems refused: one cancellation reason per item, in order (`ConditionalCheckFailed` marks the item whose condition failed) */
export const cancelled = (...codes: string[]) =>
  new TransactionCanceledException({ message: 'cancelled', $metadata: {}, CancellationReasons: codes.map((Code) => ({ Code })) });

export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** the TransactItems of every TransactWriteItems the table received, in order */
export const transactions = (m: Mocks): TransactItem[][] =>
  m.ddb.commandCalls(TransactWriteCommand).map((c) => c.args[0].input.TransactItems ?? []);

/** the Put items of one transaction */
export const putItems = (items: TransactItem[]): Record<string, unknown>[] =>
  items.flatMap((i) => (i.Put ? [i.Put.Item as Record<string, unknown>] : []));

/** the events (sk EVENT#...) written by one transaction */
export const eventItems = (items: TransactItem[]): Record<string, unknown>[] =>
  putItems(items).filter((i) => String(i.sk).startsWith('EVENT#'));

export interface SentEmail {
  to: string[];
  mime: string;
  parsed: ParsedMail;
}

/** every email SES was asked to send, as raw MIME and parsed */
export const sentEmails = async (m: Mocks): Promise<SentEmail[]> =>
  Promise.all(
    m.ses.commandCalls(SendEmailCommand).map(async (c) => {
      const input = c.args[0].input;
      const raw = Buffer.from(input.Content?.Raw?.Data ?? new Uint8Array());
      return { to: input.Destination?.ToAddresses ?? [], mime: raw.toString('utf8'), parsed: await simpleParser(raw) };
    }),
  );

export { SendEmailCommand };

/** the items of every plain PutItem the table received, in order (saves without a status change, enqueued alerts) */
export const plainPuts = (m: Mocks): Record<string, unknown>[] =>
  m.ddb.commandCalls(PutCommand).map((c) => c.args[0].input.Item as Record<string, unknown>);

/** the outbox items (sk NOTICE#...) one transaction writes */
export const noticeItems = (items: TransactItem[]): Record<string, unknown>[] =>
  putItems(items).filter((i) => String(i.sk).startsWith('NOTICE#'));

/** the keys (`<milestone>:<audience>`) of the notices one transaction writes, sorted */
export const noticeKeys = (items: TransactItem[]): string[] =>
  noticeItems(items)
    .map((i) => String(i.key))
    .sort();

/** every UpdateItem the table received (notice claims), in order */
export const updates = (m: Mocks) => m.ddb.commandCalls(UpdateCommand).map((c) => c.args[0].input);

// ---- what the table holds: GetItem answers for the items a test stores ----------------------

export const storeReferral = (m: Mocks, r: ReferralRecord): void => {
  m.ddb.on(GetCommand, { Key: { pk: `REFERRAL#${r.referralId}`, sk: 'META' } }).resolves({ Item: metaItem(r) });
};

/** the table answers the first read of the referral with `first`, every later one with `then` (another writer came between) */
export const readsThen = (m: Mocks, first: ReferralRecord, then: ReferralRecord): void => {
  m.ddb
    .on(GetCommand, { Key: { pk: `REFERRAL#${first.referralId}`, sk: 'META' } })
    .resolvesOnce({ Item: metaItem(first) })
    .resolves({ Item: metaItem(then) });
};

export const storeIntake = (m: Mocks, referralId: string, intake: Intake): void => {
  m.ddb.on(GetCommand, { Key: { pk: `REFERRAL#${referralId}`, sk: 'INTAKE' } }).resolves({ Item: intakeItem(referralId, intake) });
};

export const storeCohort = (m: Mocks, c: CohortRecord): void => {
  m.ddb.on(GetCommand, { Key: { pk: `COHORT#${c.cohortId}`, sk: 'META' } }).resolves({ Item: cohortItem(c) });
};

/**
 * A stored notice that answers its claim as DynamoDB would: the UpdateItem's condition
 * (`state IN (pending, sending) AND dueAt <= :now`) is evaluated on the stored item; when it holds
 * the claimed item comes back (ALL_NEW: sending, leased, one more attempt), else the condition fails.
 */
export const storeNotice = (m: Mocks, n: NoticeRecord): void => {
  m.ddb
    .on(UpdateCommand, { Key: { pk: `REFERRAL#${n.referralId}`, sk: `NOTICE#${n.key}` } })
    .callsFake(async (input: { ExpressionAttributeValues: Record<string, string> }) => {
      const v = input.ExpressionAttributeValues;
      if (!['pending', 'sending'].includes(n.state) || n.dueAt > v[':now']!) {
        throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
      }
      return { Attributes: noticeItem({ ...n, state: 'sending', dueAt: v[':lease']!, attempts: n.attempts + 1 }) };
    });
};
