import { permanentError } from '../errors';

/**
 * Working hours in the council's local time (Europe/London, so British Summer Time is
 * followed without anyone changing a setting): the planning poller calls planning only
 * inside them. A time of day is "HH:MM"; the end may be "24:00" (midnight at the end of
 * the day). Inside means start <= now < end on one of the days. An end earlier than the
 * start runs over midnight (22:00-06:00: from 22:00 on a listed day until 06:00 the next
 * morning, whatever day that is).
 */
export type Weekday = 'Mon' | 'Tue' | 'Wed' | 'Thu' | 'Fri' | 'Sat' | 'Sun';

export const WEEKDAYS: readonly Weekday[] = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

export const COUNCIL_TIME_ZONE = 'Europe/London';

export interface WorkingHours {
  /** "HH:MM", local time. */
  start: string;
  /** "HH:MM" or "24:00", local time. */
  end: string;
  /** The days the hours start on. */
  days: readonly Weekday[];
  /** Default Europe/London. */
  timeZone?: string;
}

/** Checked hours: minutes since local midnight. */
export interface ParsedHours {
  startMinute: number;
  endMinute: number;
  days: ReadonlySet<Weekday>;
  timeZone: string;
}

function minuteOf(value: string, what: string, allowMidnightEnd: boolean): number {
  const m = /^(\d{1,2}):(\d{2})$/.exec(String(value ?? '').trim());
  const hours = m ? Number(m[1]) : NaN;
  const minutes = m ? Number(m[2]) : NaN;
  const ok = m && minutes < 60 && (hours < 24 || (allowMidnightEnd && hours === 24 && minutes === 0));
  if (!ok) throw permanentError('PLANNING_POLL_CONFIGURATION', `${what} must be a time of day HH:MM${allowMidnightEnd ? ' (or 24:00)' : ''}, got "${value}"`);
  return hours * 60 + minutes;
}

const FULL_NAMES = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];

/** Parses "Mon,Tue" or "monday tuesday" (any case, spaces or commas) into weekdays; an unknown name is refused. */
export function parseWeekdays(value: string | readonly string[]): Weekday[] {
  const names = (Array.isArray(value) ? value : String(value ?? '').split(/[\s,]+/)).map((d) => String(d).trim()).filter(Boolean);
  const days: Weekday[] = [];
  for (const name of names) {
    const day = FULL_NAMES.findIndex((full) => name.length >= 3 && full.startsWith(name.toLowerCase()));
    if (day < 0) throw permanentError('PLANNING_POLL_CONFIGURATION', `unknown weekday "${name}" (use ${WEEKDAYS.join(', ')})`);
    if (!days.includes(WEEKDAYS[day])) days.push(WEEKDAYS[day]);
  }
  return days.sort((a, b) => WEEKDAYS.indexOf(a) - WEEKDAYS.indexOf(b));
}

export function parseHours(hours: WorkingHours): ParsedHours {
  const startMinute = minuteOf(hours.start, 'the start of the working hours', false);
  const endMinute = minuteOf(hours.end, 'the end of the working hours', true);
  if (startMinute === endMinute) throw permanentError('PLANNING_POLL_CONFIGURATION', `the working hours start and end at the same time (${hours.start}); for all day use 00:00 to 24:00`);
  const days = parseWeekdays(hours.days as readonly string[]);
  if (!days.length) throw permanentError('PLANNING_POLL_CONFIGURATION', 'the working hours name no weekday');
  const timeZone = hours.timeZone ?? COUNCIL_TIME_ZONE;
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone });
  } catch {
    throw permanentError('PLANNING_POLL_CONFIGURATION', `unknown time zone "${timeZone}"`);
  }
  return { startMinute, endMinute, days: new Set(days), timeZone };
}

const formats = new Map<string, Intl.DateTimeFormat>();

/** The local weekday and minute of the day of an instant. */
export function localTime(at: Date, timeZone: string = COUNCIL_TIME_ZONE): { day: Weekday; minute: number; text: string } {
  let format = formats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-GB', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formats.set(timeZone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(at).map((p) => [p.type, p.value]));
  const hour = Number(parts.hour) % 24;
  const minute = hour * 60 + Number(parts.minute);
  return { day: parts.weekday as Weekday, minute, text: `${parts.weekday} ${parts.hour}:${parts.minute}` };
}

/** Is this instant inside the working hours? */
export function withinHours(hours: ParsedHours, at: Date): boolean {
  const { day, minute } = localTime(at, hours.timeZone);
  if (hours.startMinute < hours.endMinute) return hours.days.has(day) && minute >= hours.startMinute && minute < hours.endMinute;
  // over midnight: the evening part on a listed day, the morning part after a listed day
  if (minute >= hours.startMinute) return hours.days.has(day);
  if (minute < hours.endMinute) return hours.days.has(WEEKDAYS[(WEEKDAYS.indexOf(day) + 6) % 7]);
  return false;
}
