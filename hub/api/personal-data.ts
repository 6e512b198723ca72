/**
 * The one place the console says it showed personal data: a person page, or a payload.
 * The access log (issue 18) hooks in here with setPersonalDataReadHook; until then nothing
 * is recorded. A hook that throws never stops the page.
 */
export interface PersonalDataRead {
  /** The hub user who read it. */
  actor: string;
  what: 'person' | 'payload';
  /** A CRM contact id, or a message id. */
  id: string;
}

let hook: ((read: PersonalDataRead) => void) | undefined;

export function setPersonalDataReadHook(fn: ((read: PersonalDataRead) => void) | undefined): void {
  hook = fn;
}

export function personalDataRead(read: PersonalDataRead): void {
  try {
    hook?.(read);
  } catch {
    // the access log's own failure must not hide the page; it reports its own errors
  }
}
