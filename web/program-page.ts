// the program's phone in the intake page: the `program-phone` meta the form reads and the line shown
// without JavaScript. web/src/intake/index.html leaves both empty; the web build writes the default
// (functions/lib/program.ts) for the local runtime, and a deployment writes the configured one
// (infra/constructs/web.ts), so the CDK setting reaches the page as it reaches the emails.

/** the built page a deployment rewrites */
export const INTAKE_PAGE = 'intake/index.html';

const escapeHtml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const META = /(<meta name="program-phone" content=")[^"]*(">)/;
const LINK = /<a data-program-phone href="[^"]*">[^<]*<\/a>/;

/** `html` with `phone` in the program-phone meta and link; a page without them is returned as it is */
export const withProgramPhone = (html: string, phone: string): string => {
  const shown = escapeHtml(phone);
  const tel = escapeHtml(`tel:${phone.replace(/[^\d+]/g, '')}`);
  return html.replace(META, `$1${shown}$2`).replace(LINK, `<a data-program-phone href="${tel}">${shown}</a>`);
};
