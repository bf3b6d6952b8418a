import { RecheckSchema } from '../../../../functions/lib/schemas/recheck';
import type { EligibilityResult, ReferralDetail } from '../../../../functions/lib/schemas/views';
import { payerPicker } from '../../shared/payers';
import { api } from '../api';
import { announce, h, nextId } from '../dom';
import { dateTime, sentence, words } from '../format';
import { FormErrors, input, issuesToFields } from '../forms';
import { defs, type ViewContext } from './common';

// the insurance review (issue 16): what the eligibility check found — outcome, why (reason code and
// its plain meaning), the payer ID asked, in-network benefits for service type AI — and, while the
// referral is in insurance review, "Correct and check again": the member ID or the payer (the same
// payer list as the intake form) sent to POST …/insurance/recheck; the view then shows the new result.
// Patient text goes through text nodes only (dom.ts).

const usd = (n: number): string => `$${n.toLocaleString('en-US', { minimumFractionDigits: n % 1 ? 2 : 0, maximumFractionDigits: 2 })}`;

const SOURCE: Record<NonNullable<EligibilityResult['source']>, string> = {
  simulator: 'Payer simulator (demo)',
  clearinghouse: 'Clearinghouse (real-time 270/271)',
};

/** the result's facts as label/value rows: only those the check gave */
export const eligibilityFacts = (e: EligibilityResult): HTMLElement => {
  const b = e.benefits;
  const rows: Array<[string, string]> = [
    ['Outcome', words(e.outcome)],
    ['Checked', dateTime(e.checkedAt)],
  ];
  if (e.source) rows.push(['Answered by', SOURCE[e.source] ?? words(e.source)]);
  if (e.payerId) rows.push(['Payer ID', e.payerId]);
  if (e.reason) rows.push(['Reason', `${e.reason.code} — ${e.reason.meaning}`]);
  if (b?.copay !== undefined) rows.push(['Copay (in network)', usd(b.copay)]);
  if (b?.coinsurancePercent !== undefined) rows.push(['Coinsurance (in network)', `${b.coinsurancePercent} %`]);
  if (b?.deductibleRemaining !== undefined) rows.push(['Deductible remaining (in network)', usd(b.deductibleRemaining)]);
  rows.push(['Summary', e.summary]);
  return defs(rows);
};

/** the check's result and the form to correct the insurance and check again (mounted only at INSURANCE_REVIEW) */
export function insuranceReviewPanel(ctx: ViewContext, r: ReferralDetail): HTMLElement {
  const ins = r.intake.insurance;
  const errors = new FormErrors('The check was not run');
  const memberId = input({
    label: 'Member ID',
    path: 'memberId',
    value: ins.memberId ?? '',
    hint: 'As on the insurance card: letters, digits and dashes.',
    attrs: { autocomplete: 'off', spellcheck: 'false' },
  });
  const payer = input({
    label: 'Insurance company',
    path: 'payer',
    value: ins.payer ?? '',
    hint: 'Choose from the payer list to check with that payer; a name not on the list is checked by hand.',
    attrs: { autocomplete: 'off' },
  });
  const picker = payerPicker({
    input: payer.control,
    field: payer.el,
    listId: nextId('payers'),
    statusClass: 'hint',
    status: (listed) =>
      listed ? `On the list: payer ID ${listed.payerId}` : 'Not on the list: no request is sent, coverage is checked by hand',
  });

  /** only what the case worker changed; nothing changed checks again with the insurance as stored */
  const body = (): Record<string, string | undefined> => {
    const out: Record<string, string | undefined> = {};
    const m = memberId.control.value.trim();
    if (m !== (ins.memberId ?? '')) out.memberId = m;
    const p = payer.control.value.trim();
    const listed = picker.listed(p);
    if (p !== (ins.payer ?? '') || (listed && listed.payerId !== ins.payerId)) {
      out.payer = listed?.name ?? p;
      if (listed) out.payerId = listed.payerId;
    }
    return out;
  };

  const submit = h('button', { type: 'submit', class: 'primary' }, 'Check again');
  const form = h(
    'form',
    { class: 'recheck', novalidate: true, 'aria-labelledby': 'recheck-h' },
    h('h3', { id: 'recheck-h' }, 'Correct and check again'),
    h('p', { class: 'muted' }, 'The check runs at once with what you enter here; the referral stays in insurance review.'),
    errors.summary,
    memberId.el,
    payer.el,
    h('p', { class: 'actions' }, submit),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void send();
  });

  async function send(): Promise<void> {
    errors.clear();
    const parsed = RecheckSchema.safeParse(body());
    if (!parsed.success) {
      errors.show(issuesToFields(parsed.error));
      return;
    }
    submit.disabled = true;
    submit.textContent = 'Checking…';
    const res = await api.recheck(r.referralId, parsed.data);
    submit.disabled = false;
    submit.textContent = 'Check again';
    if (!ctx.alive()) return;
    if (res.ok) {
      announce(`Insurance checked again: ${words(res.data.eligibility.outcome).toLowerCase()}`);
      ctx.reload();
      return;
    }
    if (res.status === 400 && res.error.fields) errors.show(res.error.fields, res.error.message);
    else if (res.status === 409)
      errors.message(
        'Not in insurance review any more',
        `${sentence(res.error.message)} Reload the referral to see where it is.`,
        h('button', { type: 'button', onclick: () => ctx.reload() }, 'Reload referral'),
      );
    else errors.message('The check was not run', sentence(res.error.message));
  }

  const elig = r.eligibility;
  return h(
    'section',
    { class: 'panel insurance-review', 'aria-labelledby': 'insrev-h' },
    h('h2', { id: 'insrev-h' }, 'Insurance check'),
    h(
      'div',
      { class: `eligibility ${elig?.outcome ?? 'none'}`, role: 'group', 'aria-label': 'Latest check result' },
      elig ? eligibilityFacts(elig) : h('p', { class: 'muted' }, 'No check recorded yet.'),
    ),
    form,
  );
}
