import { SendEmailCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import MailComposer from 'nodemailer/lib/mail-composer';
import type { Config } from '../config';
import { traced } from '../observability';
import type { Mailer, OutgoingEmail } from './ports';

/**
 * SES v2 behind the Mailer port. The MIME is built with nodemailer's MailComposer: multipart
 * text + HTML, and for schedules a `text/calendar; method=REQUEST` alternative plus an invite.ics
 * attachment — the shape Gmail and Outlook both turn into an invitation.
 */
export class SesMailer implements Mailer {
  constructor(private readonly ses: SESv2Client, private readonly from: string, private readonly configurationSet?: string) {}

  async send(email: OutgoingEmail): Promise<{ messageId: string }> {
    const mime = await new MailComposer({
      from: this.from,
      to: email.to,
      subject: email.subject,
      text: email.text,
      html: email.html,
      ...(email.calendar ? { icalEvent: { method: 'REQUEST', filename: 'invite.ics', content: email.calendar } } : {}),
    })
      .compile()
      .build();
    const out = await this.ses.send(new SendEmailCommand({
      FromEmailAddress: this.from,
      Destination: { ToAddresses: email.to },
      Content: { Raw: { Data: mime } },
      ConfigurationSetName: this.configurationSet,
    }));
    return { messageId: out.MessageId ?? '' };
  }
}

/** the SES mailer for `getDeps({ mailer: sesMailer })` in the handlers that send email */
export const sesMailer = (cfg: Config): Mailer => new SesMailer(traced(new SESv2Client({})), cfg.MAIL_FROM, process.env.SES_CONFIGURATION_SET || undefined);
