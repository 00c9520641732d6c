// Calendar time for messages, from epoch milliseconds, without the Date global (src/core reads no
// clock, and Date is where a clock read would hide).

const dayMs = 86_400_000;

/** `2026-12-01 08:00 UTC`: the minute `ms` falls in. */
export function utcMinute(ms: number): string {
  const days = Math.floor(ms / dayMs);
  const minuteOfDay = Math.floor((ms - days * dayMs) / 60_000);
  const { year, month, day } = civilFromDays(days);
  const two = (value: number): string => String(value).padStart(2, '0');
  return `${String(year).padStart(4, '0')}-${two(month)}-${two(day)} ${two(Math.floor(minuteOfDay / 60))}:${two(minuteOfDay % 60)} UTC`;
}

/** The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's civil_from_days, in 400-year eras). */
function civilFromDays(days: number): { readonly year: number; readonly month: number; readonly day: number } {
  const shifted = days + 719_468; // from 0000-03-01, so a leap day ends its year
  const era = Math.floor(shifted / 146_097);
  const dayOfEra = shifted - era * 146_097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1_460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const monthFromMarch = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * monthFromMarch + 2) / 5) + 1;
  const month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9;
  return { year: yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day };
}
