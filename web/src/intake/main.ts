// the public intake page: mounts the form at / and keeps the page header in the chosen language
import { DEFAULT_PROGRAM_PHONE, mountIntakeForm, submitPublic } from './form';
import { DICTIONARIES } from './i18n';
import { availabilityLines, fetchAvailability, type Availability } from '../shared/availability';
import type { Lang } from '../shared/i18n';

const root = document.getElementById('intake');
const brand = document.getElementById('brand');
// the program's number lives in index.html, so a deployment can change it without a rebuild
const programPhone = document.querySelector<HTMLMetaElement>('meta[name="program-phone"]')?.content.trim() || DEFAULT_PROGRAM_PHONE;

// open seats under the program's name, in the form's language; the form never waits for it
const seatsBox = document.getElementById('availability');
let seats: Availability | undefined;
let seatsLang: Lang = 'en';
const showSeats = (): void => {
  if (!seatsBox || !seats) return;
  seatsBox.replaceChildren(...availabilityLines(seats, seatsLang).map((line) => Object.assign(document.createElement('p'), { textContent: line })));
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
