import { randomUUID } from 'node:crypto';
import { SendEmailCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { encode as qpEncode, wrap as qpWrap } from 'libqp';
import { now } from '../clock';
import type { Config } from '../config';
import { traced } from '../observability';
import type { Mailer, OutgoingEmail } from './ports';

/**
 * SES v2 behind the Mailer port, with the raw MIME built here (RFC 5322/2045–2047; quoted-printable
 * from libqp): text + HTML as multipart/alternative, and for schedules a
 * `text/calendar; method=REQUEST` alternative plus an invite.ics attachment in a multipart/mixed —
 * the shape Gmail and Outlook both turn into an invitation (the one nodemailer's MailComposer
 * builds for `icalEvent`, without its ~135 KiB in the two functions that send email).
 */

const CRLF = '\r\n';

/** text with CRLF line ends, quoted-printable, lines of at most 76 characters (as nodemailer chooses: for non-ASCII or long lines) */
const quotedPrintable = (text: string): string => qpWrap(qpEncode(Buffer.from(text.replace(/\r?\n/g, CRLF), 'utf8')), 76);

/** base64 in lines of 76 characters */
const base64Lines = (text: string): string =>
  Buffer.from(text, 'utf8')
    .toString('base64')
    .replace(/.{76}(?=.)/g, `$&${CRLF}`);

/**
 * an unstructured header value (a subject): as it is when printable ASCII, else RFC 2047 encoded
 * words (UTF-8, base64) of at most 64 characters, never splitting a character, folded onto lines
 */
export const encodeHeaderValue = (value: string): string => {
  const clean = value.replace(/[\r\n]+/g, ' ');
  if (/^[\x20-\x7e]*$/.test(clean) && clean.length <= 900) return clean;
  const words: string[] = [];
  let chunk = '';
  for (const ch of clean) {
    // 39 bytes encode to 52 base64 characters: with "=?UTF-8?B?" and "?=" a word is 64, so even the
    // first one after "Subject: " keeps its line within 76
    if (Buffer.byteLength(chunk + ch, 'utf8') > 39) {
      words.push(chunk);
      chunk = '';
    }
    chunk += ch;
  }
  if (chunk) words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w, 'utf8').toString('base64')}?=`).join(`${CRLF} `);
};

/** an address list header: plain addresses as they are; a display name in quotes, or encoded */
const encodeAddress = (address: string): string => {
  const m = /^\s*(.*?)\s*<([^>]+)>\s*$/.exec(address);
  if (!m?.[1]) return address.trim();
  const name = m[1].replace(/^"(.*)"$/, '$1');
  const shown = /^[\x20-\x7e]*$/.test(name) ? `"${name.replace(/["\\]/g, '\\$&')}"` : encodeHeaderValue(name);
  return `${shown} <${m[2]}>`;
};

/** RFC 5322 date: `Tue, 01 Dec 2026 15:22:35 +0000` */
const rfc5322Date = (d: Date): string => d.toUTCString().replace(/GMT$/, '+0000');

const boundary = (n: number) => `--_iop_${randomUUID().replace(/-/g, '')}_${n}`;

/** ASCII text whose lines fit goes as it is (7bit, readable in the raw message); anything else quoted-printable */
const textPart = (type: string, body: string): string[] => {
  const crlf = body.replace(/\r?\n/g, CRLF);
  const plain = /^[\x00-\x7f]*$/.test(crlf) && crlf.split(CRLF).every((l) => l.length <= 76);
  return [
    `Content-Type: ${type}`,
    `Content-Transfer-Encoding: ${plain ? '7bit' : 'quoted-printable'}`,
    '',
    plain ? crlf : quotedPrintable(body),
  ];
};

const multipart = (subtype: 'alternative' | 'mixed', b: string, parts: string[][]): string[] => [
  `Content-Type: multipart/${subtype};${CRLF} boundary="${b}"`,
  '',
  ...parts.flatMap((p) => [`--${b}`, ...p]),
  `--${b}--`,
  '',
];

/** the raw message SES sends: headers, then text/HTML (and the invitation when there is one) */
export const buildMime = (from: string, email: OutgoingEmail, at: Date = now()): string => {
  const domain = /@([^>\s]+)/.exec(from)?.[1] ?? 'localhost';
  const alternatives = [
    textPart('text/plain; charset=utf-8', email.text),
    textPart('text/html; charset=utf-8', email.html),
    ...(email.calendar ? [textPart('text/calendar; charset=utf-8; method=REQUEST', email.calendar)] : []),
  ];
  const body = email.calendar
    ? multipart('mixed', boundary(1), [
        multipart('alternative', boundary(2), alternatives),
        [
          'Content-Type: application/ics; name=invite.ics',
          'Content-Disposition: attachment; filename=invite.ics',
          'Content-Transfer-Encoding: base64',
          '',
          base64Lines(email.calendar),
        ],
      ])
    : multipart('alternative', boundary(1), alternatives);
  return [
    `From: ${encodeAddress(from)}`,
    `To: ${email.to.map(encodeAddress).join(`,${CRLF} `)}`,
    `Subject: ${encodeHeaderValue(email.subject)}`,
    `Message-ID: <${randomUUID()}@${domain}>`,
    `Date: ${rfc5322Date(at)}`,
    'MIME-Version: 1.0',
    ...body,
  ].join(CRLF);
};

class SesMailer implements Mailer {
  constructor(
    private readonly ses: SESv2Client,
    private readonly from: string,
    private readonly configurationSet?: string,
  ) {}

  async send(email: OutgoingEmail): Promise<{ messageId: string }> {
    const out = await this.ses.send(
      new SendEmailCommand({
        FromEmailAddress: this.from,
        Destination: { ToAddresses: email.to },
        Content: { Raw: { Data: Buffer.from(buildMime(this.from, email), 'utf8') } },
        ConfigurationSetName: this.configurationSet,
      }),
    );
    return { messageId: out.MessageId ?? '' };
  }
}

/** the SES mailer for `getDeps({ mailer: sesMailer })` in the handlers that send email */
export const sesMailer = (cfg: Config): Mailer =>
  new SesMailer(traced(new SESv2Client({})), cfg.MAIL_FROM, process.env.SES_CONFIGURATION_SET || undefined);
