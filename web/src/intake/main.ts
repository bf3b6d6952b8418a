// the public intake page: mounts the form at / and keeps the page header in the chosen language
import { PROGRAM_DEFAULTS } from '../../../functions/lib/program';
import { mountIntakeForm, submitPublic } from './form';
import { DICTIONARIES } from './i18n';
import { availabilityLines, fetchAvailability, type Availability } from '../shared/availability';
import type { Lang } from '../shared/i18n';

const root = document.getElementById('intake');
const brand = document.getElementById('brand');
// the program's number is in index.html: the build writes the default, a deployment the configured one (web/program-page.ts)
const programPhone = document.querySelector<HTMLMetaElement>('meta[name="program-phone"]')?.content.trim() || PROGRAM_DEFAULTS.phone;

// open seats under the program's name, in the form's language; the form never waits for it
const seatsBox = document.getElementById('availability');
let seats: Availability | undefined;
let seatsLang: Lang = 'en';
const showSeats = (): void => {
  if (!seatsBox || !seats) return;
  seatsBox.replaceChildren(
    ...availabilityLines(seats, seatsLang).map((line) => Object.assign(document.createElement('p'), { textContent: line })),
  );
  seatsBox.hidden = false;
};
void fetchAvailability().then((a) => {
  seats = a;
  showSeats();
});

if (root) {
  mountIntakeForm(root, {
    mode: 'public',
    submit: submitPublic,
    programPhone,
    onLanguageChange: (lang) => {
      if (brand) brand.textContent = DICTIONARIES[lang]['program.name'];
      seatsLang = lang;
      showSeats();
    },
  });
}
