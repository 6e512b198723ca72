import type { CrmAddContactNote } from '../canonical';
import { permanentError } from '../errors';
import type { CrmCall } from './cases';

/**
 * A note on the CRM contact who holds an account (a payment, a refund): FindContactByAccount
 * (fund, accountRef), then AddContactNote, which the CRM adds once per sourceEventId. An
 * account no contact holds is not an error: the resident is not known to the contact centre.
 */
export type NoteOutcome = { noted: true; contactId: string; noteId: string } | { noted: false; reason: string };

function isContactNotFound(err: unknown): boolean {
  const e = err as { faultName?: unknown; faultstring?: unknown; message?: unknown };
  return e?.faultName === 'ContactNotFound' || /ContactNotFound/.test(String(e?.faultstring ?? e?.message ?? ''));
}

export async function noteOnAccountHolder(note: CrmAddContactNote, call: CrmCall): Promise<NoteOutcome> {
  if (!note?.fund || !note.accountRef || !note.text || !note.sourceEventId) {
    throw permanentError('INVALID_CONTACT_NOTE', 'a contact note needs fund, accountRef, text and sourceEventId (map it first, e.g. payment-to-crm-note)');
  }
  let contactId: string;
  try {
    const found = await call('FindContactByAccount', { fund: note.fund, accountRef: note.accountRef });
    if (typeof found?.contactId !== 'string' || !found.contactId) throw permanentError('CRM_MALFORMED_ANSWER', `FindContactByAccount for ${note.fund} ${note.accountRef} answered without a contactId`);
    contactId = found.contactId;
  } catch (err) {
    if (isContactNotFound(err)) return { noted: false, reason: `no CRM contact holds ${note.fund} account ${note.accountRef}` };
    throw err;
  }
  const added = await call('AddContactNote', { contactId, text: note.text, sourceEventId: note.sourceEventId });
  if (typeof added?.noteId !== 'string' || !added.noteId) throw permanentError('CRM_MALFORMED_ANSWER', `AddContactNote for ${contactId} answered without a noteId`);
  return { noted: true, contactId, noteId: added.noteId };
}
