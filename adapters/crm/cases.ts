import type { CaseUpdated } from '../canonical';
import { permanentError } from '../errors';

/**
 * A case on the CRM for a back-office system's case (a planning application, a repair job):
 * found by its external ref, created if the CRM has none (linked to the CRM contact when
 * the hub knows who it is). CreateCase is idempotent on (externalSystem, externalRef), so a
 * retry after a lost answer does not make a second case.
 */
export type CrmCall = (operation: string, args: object) => Promise<any>;

export interface CaseOnCrm {
  caseRef: string;
  /** The hub created it now. */
  created: boolean;
  /** The contact it was created for (only when created now). */
  contactId?: string;
}

function isCaseNotFound(err: unknown): boolean {
  const e = err as { faultName?: unknown; faultstring?: unknown; message?: unknown };
  return e?.faultName === 'CaseNotFound' || /CaseNotFound/.test(String(e?.faultstring ?? e?.message ?? ''));
}

export async function findOrCreateCase(update: Pick<CaseUpdated, 'sourceSystem' | 'sourceRef' | 'caseType' | 'title'>, call: CrmCall, contactId?: string): Promise<CaseOnCrm> {
  if (!update?.sourceSystem || !update.sourceRef) throw permanentError('INVALID_CASE_UPDATE', 'a case update needs sourceSystem and sourceRef (map it to case.updated first)');
  const externalRef = { externalSystem: update.sourceSystem, externalRef: update.sourceRef };
  try {
    const found = await call('FindCaseByExternalRef', externalRef);
    if (typeof found?.caseRef === 'string' && found.caseRef) return { caseRef: found.caseRef, created: false };
    throw permanentError('CRM_MALFORMED_ANSWER', `FindCaseByExternalRef for ${update.sourceSystem} ${update.sourceRef} answered without a caseRef`);
  } catch (err) {
    if (!isCaseNotFound(err)) throw err;
  }
  const made = await call('CreateCase', { caseType: update.caseType, title: update.title, ...externalRef, ...(contactId ? { contactId } : {}) });
  if (typeof made?.caseRef !== 'string' || !made.caseRef) throw permanentError('CRM_MALFORMED_ANSWER', `CreateCase for ${update.sourceSystem} ${update.sourceRef} answered without a caseRef`);
  return { caseRef: made.caseRef, created: true, ...(contactId ? { contactId } : {}) };
}

/** The system records a case update names (an applicant party, a tenant), to find the CRM contact by. */
export function partiesOf(update: Pick<CaseUpdated, 'parties'>): Array<{ system: 'planning' | 'housing'; ids: Record<string, string> }> {
  const p = update.parties ?? {};
  const out: Array<{ system: 'planning' | 'housing'; ids: Record<string, string> }> = [];
  if (p.planningPartyId) out.push({ system: 'planning', ids: { partyId: p.planningPartyId } });
  if (p.housingTenancyRef && p.housingPersonRef) out.push({ system: 'housing', ids: { tenancyRef: p.housingTenancyRef, personRef: p.housingPersonRef } });
  return out;
}
