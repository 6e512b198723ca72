import assert from 'assert';
import { localTime, parseHours, parseWeekdays, withinHours } from '../../adapters/planning/hours';
import { HubError } from '../../adapters/errors';

describe('planning poller: working hours in Europe/London', () => {
  const weekdays = parseHours({ start: '07:00', end: '19:00', days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri'] });
  const at = (iso: string) => withinHours(weekdays, new Date(iso));

  it('follows British Summer Time and Greenwich Mean Time', () => {
    // summer (BST, UTC+1)
    assert.strictEqual(at('2026-07-06T05:59:00Z'), false, 'Monday 06:59 BST');
    assert.strictEqual(at('2026-07-06T06:00:00Z'), true, 'Monday 07:00 BST');
    assert.strictEqual(at('2026-07-06T17:59:00Z'), true, 'Monday 18:59 BST');
    assert.strictEqual(at('2026-07-06T18:00:00Z'), false, 'Monday 19:00 BST');
    // winter (GMT)
    assert.strictEqual(at('2026-12-07T06:59:00Z'), false, 'Monday 06:59 GMT');
    assert.strictEqual(at('2026-12-07T07:00:00Z'), true, 'Monday 07:00 GMT');
    assert.strictEqual(at('2026-12-07T18:59:00Z'), true);
    assert.strictEqual(at('2026-12-07T19:00:00Z'), false);
    // the clocks go forward on Sunday 29 March 2026; Monday 30 March is BST
    assert.strictEqual(at('2026-03-30T06:30:00Z'), true, 'Monday 07:30 BST, the day after the change');
    assert.strictEqual(at('2026-03-27T06:30:00Z'), false, 'Friday 06:30 GMT, before the change');
  });

  it('polls only on the days listed, as the local day (not the UTC day)', () => {
    assert.strictEqual(at('2026-07-04T12:00:00Z'), false, 'Saturday');
    assert.strictEqual(at('2026-07-05T12:00:00Z'), false, 'Sunday');
    const saturdays = parseHours({ start: '00:00', end: '24:00', days: ['Sat'] });
    assert.strictEqual(withinHours(saturdays, new Date('2026-07-03T23:30:00Z')), true, 'Friday 23:30 UTC is Saturday 00:30 in London');
    assert.strictEqual(withinHours(saturdays, new Date('2026-07-04T22:59:00Z')), true, 'Saturday 23:59 BST, up to the end of the day');
    assert.strictEqual(withinHours(saturdays, new Date('2026-07-04T23:00:00Z')), false, 'Sunday 00:00 BST');
    assert.deepStrictEqual(localTime(new Date('2026-07-03T23:30:00Z')), { day: 'Sat', minute: 30, text: 'Sat 00:30' });
  });

  it('runs hours over midnight from the listed day into the next morning', () => {
    const nights = parseHours({ start: '22:00', end: '06:00', days: ['Fri'], timeZone: 'Europe/London' });
    assert.strictEqual(withinHours(nights, new Date('2026-12-04T22:30:00Z')), true, 'Friday 22:30');
    assert.strictEqual(withinHours(nights, new Date('2026-12-05T05:59:00Z')), true, 'Saturday 05:59, the Friday night');
    assert.strictEqual(withinHours(nights, new Date('2026-12-05T06:00:00Z')), false);
    assert.strictEqual(withinHours(nights, new Date('2026-12-05T22:30:00Z')), false, 'Saturday night is not listed');
    assert.strictEqual(withinHours(nights, new Date('2026-12-04T05:00:00Z')), false, 'Friday 05:00 belongs to Thursday night');
  });

  it('refuses hours and days it cannot read, with a permanent configuration error', () => {
    const refused = (fn: () => unknown, message: RegExp) => {
      assert.throws(fn, (err: unknown) => err instanceof HubError && err.code === 'PLANNING_POLL_CONFIGURATION' && err.transient === false && message.test(err.message));
    };
    refused(() => parseHours({ start: '7am', end: '19:00', days: ['Mon'] }), /start .* HH:MM, got "7am"/);
    refused(() => parseHours({ start: '07:00', end: '25:00', days: ['Mon'] }), /end .* got "25:00"/);
    refused(() => parseHours({ start: '24:00', end: '10:00', days: ['Mon'] }), /start/);
    refused(() => parseHours({ start: '07:00', end: '07:00', days: ['Mon'] }), /same time/);
    refused(() => parseHours({ start: '07:00', end: '19:00', days: [] }), /no weekday/);
    refused(() => parseHours({ start: '07:00', end: '19:00', days: ['Mon'], timeZone: 'Mars/Olympus' }), /unknown time zone/);
    refused(() => parseWeekdays('Mon,Funday'), /unknown weekday "Funday"/);
    refused(() => parseWeekdays('Mo'), /unknown weekday "Mo"/);
  });

  it('reads weekdays written in several ways', () => {
    assert.deepStrictEqual(parseWeekdays('fri, Mon tuesday,MON'), ['Mon', 'Tue', 'Fri']);
    assert.deepStrictEqual(parseWeekdays(['Sun', 'Sat']), ['Sat', 'Sun']);
  });
});
