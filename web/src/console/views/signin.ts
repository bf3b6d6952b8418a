import type { AuthProvider } from '../auth';
import { h } from '../dom';

// sign-in: a password form against the local issuer, or a button to the Cognito managed login

export function signInView(auth: AuthProvider, reason: string | null, done: () => void): HTMLElement {
  const status = h('div', { class: 'signin-status', role: 'alert' });
  const showError = (msg: string): void => {
    status.replaceChildren(h('p', { class: 'notice error' }, msg));
  };

  let body: HTMLElement;
  if (auth.mode === 'cognito') {
    const btn = h('button', { type: 'button', class: 'primary' }, 'Sign in with your organization account');
    btn.addEventListener('click', () => {
      btn.disabled = true;
      auth.redirectToSignIn().catch(() => {
        btn.disabled = false;
        showError('Could not start sign-in. Try again.');
      });
    });
    body = h('div', null, btn);
  } else {
    const user = h('input', {
      id: 'signin-user',
      name: 'username',
      autocomplete: 'username',
      required: true,
      spellcheck: 'false',
      autocapitalize: 'none',
    });
    const pass = h('input', { id: 'signin-pass', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
    const submit = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
    body = h(
      'form',
      { class: 'signin-form', novalidate: true },
      h('div', { class: 'field' }, h('label', { for: 'signin-user' }, 'Username'), user),
      h('div', { class: 'field' }, h('label', { for: 'signin-pass' }, 'Password'), pass),
      h('p', { class: 'actions' }, submit),
      h('p', { class: 'hint' }, 'Local runtime: demo users are listed in the project README.'),
    );
    body.addEventListener('submit', (e) => {
      e.preventDefault();
      if (!user.value.trim() || !pass.value) {
        showError('Enter your username and password.');
        (user.value.trim() ? pass : user).focus();
        return;
      }
      submit.disabled = true;
      status.replaceChildren();
      void auth.signInWithPassword(user.value.trim(), pass.value).then((res) => {
        submit.disabled = false;
        if (res.ok) {
          pass.value = '';
          done();
        } else {
          showError(res.message);
          pass.select();
        }
      });
    });
  }

  return h(
    'section',
    { class: 'signin panel', 'aria-labelledby': 'page-h' },
    h('h1', { id: 'page-h', tabindex: '-1' }, 'Sign in to the case-worker console'),
    reason ? h('p', { class: 'notice info' }, reason) : null,
    h('p', { class: 'muted' }, 'For program staff only. This console shows protected health information under 42 CFR Part 2.'),
    status,
    body,
  );
}
