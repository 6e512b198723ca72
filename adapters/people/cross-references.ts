/**
 * Whom the hub found where: a cross-reference from a CRM contact to each system's own ids
 * (planning party, housing tenancy and person). A system's lookup only knows the address
 * it holds, so a second move made before the first one reached it must be matched through
 * here, not by looking up again.
 */
export type System = 'planning' | 'housing' | 'revenues';

export interface CrossReference {
  contactId: string;
  system: System;
  ids: Record<string, string>;
  foundAt: string;
}

export interface CrossReferenceStore {
  find(contactId: string, system: System): Promise<CrossReference | undefined>;
  remember(contactId: string, system: System, ids: Record<string, string>): Promise<void>;
  all(contactId: string): Promise<CrossReference[]>;
}

