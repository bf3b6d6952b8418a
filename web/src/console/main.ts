import * as z from 'zod';
import { useAuth } from './api';
import { createAuth, isSupervisor, type AuthProvider, type Session } from './auth';
import { loadConfig } from './config';
import { announce, h, mount } from './dom';
import { cohortsView } from './views/cohorts';
import type { ViewContext } from './views/common';
import { dashboardView } from './views/dashboard';
import { detailView } from './views/detail';
import { phoneIntakeView } from './views/phone-intake';
import { isQueueTab, queueView, type QueueTab, type QueueView } from './views/queues';
import { signInView } from './views/signin';

// the console shell: config → auth → hash router. The hash holds only view names and referral
// IDs (#/queue/evaluation, #/referral/<id>, #/cohorts, #/dashboard, #/phone) — never PHI.

// the CSP has no 'unsafe-eval': keep zod from probing for code generation (a CSP report even when caught)
z.config({ jitless: true });

type Route =
  | { view: 'queue'; tab?: QueueTab }
  | { view: 'referral'; id: string }
  | { view: 'cohorts' }
  | { view: 'dashboard' }
  | { view: 'phone' };

const ID_RE = /^[A-Za-z0-9_-]{1,64}$/;
// the tab last opened; until one is, the queue opens on urgent work (views/queues.ts)
let lastTab: QueueTab | undefined;

export function parseHash(hash: string): Route {
  const parts = hash
    .replace(/^#\/?/, '')
    .split('/')
    .map((p) => {
      try {
        return decodeURIComponent(p);
      } catch {
        return '';
      }
    });
  const [view, arg] = parts;
  if (view === 'referral' && arg && ID_RE.test(arg)) return { view: 'referral', id: arg };
  if (view === 'cohorts') return { view: 'cohorts' };
  if (view === 'dashboard') return { view: 'dashboard' };
  if (view === 'phone') return { view: 'phone' };
  if (view === 'queue' && arg && isQueueTab(arg)) return { view: 'queue', tab: arg };
  return { view: 'queue', tab: lastTab };
}

const TITLES: Record<Route['view'], string> = {
  queue: 'Work queues',
  referral: 'Referral',
  cohorts: 'Cohorts',
  dashboard: 'Program dashboard',
  phone: 'Phone intake',
};

const main = document.getElementById('main')!;
const nav = document.getElementById('nav')!;
const userBox = document.getElementById('user')!;

let auth: AuthProvider;
let generation = 0;
let queue: { view: QueueView; gen: number } | null = null;

function shell(session: Session | null, route: Route | null): void {
  nav.hidden = !session;
  userBox.hidden = !session;
  if (!session || !route) {
    nav.replaceChildren();
    userBox.replaceChildren();
    return;
  }
  const link = (href: string, label: string, on: boolean) => h('a', { href, 'aria-current': on ? 'page' : undefined }, label);
  nav.replaceChildren(
    h(
      'ul',
      null,
      h('li', null, link(lastTab ? `#/queue/${lastTab}` : '#/queue', 'Queues', route.view === 'queue' || route.view === 'referral')),
      h('li', null, link('#/dashboard', 'Dashboard', route.view === 'dashboard')),
      h('li', null, link('#/cohorts', 'Cohorts', route.view === 'cohorts')),
      h('li', null, link('#/phone', 'Phone intake', route.view === 'phone')),
    ),
  );
  const role = isSupervisor(session) ? 'Supervisor' : session.groups.includes('case-workers') ? 'Case worker' : 'No staff role';
  const out = h('button', { type: 'button', class: 'secondary small' }, 'Sign out');
  out.addEventListener('click', () => auth.signOut());
  userBox.replaceChildren(
    h(
      'span',
      { class: 'who' },
      h('span', { class: 'visually-hidden' }, 'Signed in as '),
      session.username,
      h('span', { class: 'role' }, ` · ${role}`),
    ),
    out,
  );
}

function showSignIn(reason: string | null): void {
  generation++;
  queue = null;
  shell(null, null);
  document.title = 'Sign in — IOP console';
  // anything a previous view showed (PHI) goes with the session
  mount(
    main,
    signInView(auth, reason, () => route(true)),
  );
  main.querySelector<HTMLElement>('#signin-user')?.focus();
}

function route(focus = true): void {
  const session = auth.session();
  if (!session) {
    showSignIn(null);
    return;
  }
  const r = parseHash(window.location.hash);
  if (r.view === 'queue' && r.tab) lastTab = r.tab;
  shell(session, r);
  document.title = `${TITLES[r.view]} — IOP console`;

  // switching queue tabs keeps the tab list (and focus) in place
  if (r.view === 'queue' && r.tab && queue && queue.gen === generation && main.contains(queue.view.el)) {
    queue.view.select(r.tab, true);
    return;
  }

  const gen = ++generation;
  const ctx: ViewContext = {
    session,
    alive: () => gen === generation && !!auth.session(),
    reload: () => route(false),
  };
  queue = null;
  let el: HTMLElement;
  switch (r.view) {
    case 'queue': {
      const view = queueView(ctx, r.tab);
      queue = { view, gen };
      el = view.el;
      break;
    }
    case 'referral':
      el = detailView(ctx, r.id);
      break;
    case 'cohorts':
      el = cohortsView(ctx);
      break;
    case 'dashboard':
      el = dashboardView(ctx);
      break;
    case 'phone':
      el = phoneIntakeView(ctx);
      break;
  }
  mount(main, el);
  if (focus) main.querySelector<HTMLElement>('#page-h')?.focus();
}

async function start(): Promise<void> {
  document.getElementById('skip')?.addEventListener('click', (e) => {
    e.preventDefault(); // the hash is the router's; focus instead of navigating
    main.focus();
  });
  try {
    auth = createAuth(await loadConfig());
  } catch (err) {
    mount(
      main,
      h(
        'div',
        { class: 'notice error', role: 'alert' },
        h('h1', null, 'The console is misconfigured'),
        h('p', null, (err as Error).message),
      ),
    );
    return;
  }
  useAuth(auth);
  let reason: string | null = null;
  try {
    await auth.init();
  } catch (err) {
    reason = (err as Error).message;
  }
  auth.onChange((s, why) => {
    if (s) {
      announce(`Signed in as ${s.username}`);
      return; // the sign-in view calls route() itself
    }
    if (why === 'expired') {
      showSignIn('Your session has ended. Sign in again and you will come back to this view.');
      announce('Session ended. Sign in again.');
    } else {
      window.history.replaceState(null, '', window.location.pathname);
      showSignIn('You are signed out.');
      announce('Signed out');
    }
  });
  window.addEventListener('hashchange', () => route(true));
  if (reason) showSignIn(reason);
  else route(false);
}

void start();
