// calendar days (YYYY-MM-DD) as the program counts them: pure, no dependencies (the browser apps import it too)

/** the calendar day of an instant in `timeZone` */
export const localDay = (iso: string, timeZone: string): string =>
  new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(iso));

/** the day `days` after `ymd` (negative: before) */
export const addDays = (ymd: string, days: number): string => {
  const d = new Date(`${ymd}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
};
