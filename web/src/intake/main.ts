// the public intake page: mounts the form at / and keeps the page header in the chosen language
import { DEFAULT_PROGRAM_PHONE, mountIntakeForm, submitPublic } from './form';
import { DICTIONARIES } from './i18n';

const root = document.getElementById('intake');
const brand = document.getElementById('brand');
// the program's number lives in index.html, so a deployment can change it without a rebuild
const programPhone = document.querySelector<HTMLMetaElement>('meta[name="program-phone"]')?.content.trim() || DEFAULT_PROGRAM_PHONE;

if (root) {
  mountIntakeForm(root, {
    mode: 'public',
    submit: submitPublic,
    programPhone,
    onLanguageChange: (lang) => {
      if (brand) brand.textContent = DICTIONARIES[lang]['program.name'];
    },
  });
}
