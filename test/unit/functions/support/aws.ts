import { DynamoDBDocumentClient, GetCommand, PutCommand, TransactWriteCommand, UpdateCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { simpleParser, type ParsedMail } from 'mailparser';

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
  m.ses.on(SendEmailCommand).resolves({ MessageId: 'ses-message-1' });
};

export const resetMocks = (m: Mocks): void => {
  m.ddb.reset();
  m.sfn.reset();
  m.ses.reset();
};

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

/** the items of every plain PutItem the table received, in order (saves without a status change, notice claims) */
export const plainPuts = (m: Mocks): Record<string, unknown>[] =>
  m.ddb.commandCalls(PutCommand).map((c) => c.args[0].input.Item as Record<string, unknown>);

/** notice events (DISCLOSURE, NOTICE_SENT): claimed with a fixed key before the email is sent */
export const noticeEvents = (m: Mocks): Record<string, unknown>[] =>
  plainPuts(m).filter((i) => String(i.sk).startsWith('EVENT#notice#'));
