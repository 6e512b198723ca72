import type { PaymentReceived } from '../canonical/types';
import type { CashPayment, PaymentFileProblem, PaymentFileReading } from './cash-receipting';
import type { AcceptedPaymentFile, PaymentRegister } from './register';

/**
 * What the hub decides about a cash-receipting file once it has read all of it: accept it
 * (post every payment), refuse it whole (any problem at all, including a file sequence or
 * a transaction ref an earlier file had), or recognise it as one it already accepted (a
 * crashed hub offered it again from processing/: nothing is posted twice).
 */
export type PaymentFileVerdict =
  | { outcome: 'accept'; file: AcceptedPaymentFile }
  | { outcome: 'already-posted'; file: AcceptedPaymentFile }
  | { outcome: 'refuse'; problems: PaymentFileProblem[]; moreProblems: number };

export const PAYMENTS_SOURCE = 'cash-receipting';

export async function judgePaymentFile(reading: PaymentFileReading, register: PaymentRegister, options: { recovered: boolean; now?: number }): Promise<PaymentFileVerdict> {
  const problems = [...reading.problems];
  if (reading.header) {
    const identity = { sourceId: reading.header.sourceId, fileDate: reading.header.fileDate, sequence: reading.header.sequence };
    const earlier = await register.fileWithSequence(identity);
    if (earlier) {
      // The same bytes, offered again after a crash: it was accepted, its payments are in the journal.
      if (earlier.sha256 === reading.sha256 && options.recovered) return { outcome: 'already-posted', file: earlier };
      const same = earlier.sha256 === reading.sha256 ? 'the same file' : 'another file';
      problems.push({ line: 1, message: `file sequence ${String(identity.sequence).padStart(3, '0')} of ${identity.fileDate} from ${identity.sourceId} was already taken: ${same}, ${earlier.name}, accepted ${new Date(earlier.acceptedAt).toISOString()}` });
    }
  }
  const known = await register.knownTransactionRefs(reading.payments.map((p) => p.transactionRef));
  for (const p of reading.payments) {
    const file = known.get(p.transactionRef);
    if (file) problems.push({ line: p.line, message: `transaction ref ${p.transactionRef} was already posted from ${file}` });
  }
  if (problems.length || !reading.header) {
    if (!problems.length) problems.push({ line: 0, message: 'the file has no header record' });
    return { outcome: 'refuse', problems: problems.sort((a, b) => a.line - b.line), moreProblems: reading.moreProblems };
  }
  return {
    outcome: 'accept',
    file: {
      name: reading.name,
      sha256: reading.sha256,
      sourceId: reading.header.sourceId,
      fileDate: reading.header.fileDate,
      sequence: reading.header.sequence,
      payments: reading.payments.length,
      totalPence: reading.totalPence,
      acceptedAt: options.now ?? Date.now(),
    },
  };
}

const londonOffset = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', timeZoneName: 'shortOffset' });

/** A local UK date and time (the cash-receipting system's clock) with its offset: +00:00 in winter, +01:00 in summer. */
export function ukLocalTime(date: string, time: string): string {
  // The offset at that moment, read in Europe/London; around the clock change an hour is ambiguous, and GMT is taken.
  const guess = new Date(`${date}T${time}Z`);
  const name = londonOffset.formatToParts(guess).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const hours = /GMT([+-]\d+)/.exec(name)?.[1];
  if (!hours) return `${date}T${time}Z`;
  const n = Number(hours);
  return `${date}T${time}${n >= 0 ? '+' : '-'}${String(Math.abs(n)).padStart(2, '0')}:00`;
}

/** A detail record as the canonical payment.received. */
export function cashPaymentReceived(p: CashPayment, fileName: string): PaymentReceived {
  return {
    eventType: 'payment.received',
    source: PAYMENTS_SOURCE,
    transactionRef: p.transactionRef,
    receivedAt: ukLocalTime(p.date, p.time),
    fund: p.fund as PaymentReceived['fund'],
    accountRef: p.accountRef,
    amountPence: p.amountPence,
    channel: p.channel,
    authCode: p.authCode,
    file: { name: fileName, line: p.line },
  };
}
