import { login } from '../support/hub-process';
import type { ReconciliationReport } from '../../hub/reconcile/reconcile';

/** The hub's console API as a support officer uses it (a bearer token per hub start). */
export const DEMO_PASSWORD = 'council-hub-demo';

export class HubApi {
  private token?: string;

  constructor(
    private url: string,
    private readonly username = 'support',
  ) {}

  /** After a restart the hub listens elsewhere and knows no token. */
  moved(url: string): void {
    this.url = url;
    this.token = undefined;
  }

  async call<T = any>(method: string, path: string, body?: unknown, timeoutMs = 60000): Promise<{ status: number; body: T }> {
    this.token ??= await login(this.url, this.username, DEMO_PASSWORD);
    const response = await fetch(`${this.url}/api/console${path}`, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.token}` },
      // A hub that stops answering must fail the run, not hang it.
      signal: AbortSignal.timeout(timeoutMs),
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    let parsed: any = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text for the error message
    }
    return { status: response.status, body: parsed };
  }

  async get<T = any>(path: string): Promise<T> {
    const { status, body } = await this.call<T>('GET', path);
    if (status !== 200) throw new Error(`GET ${path} answered ${status}: ${JSON.stringify(body)}`);
    return body;
  }

  /** POST a JSON body; anything but 200 is an error. */
  async post<T = any>(path: string, body: unknown, timeoutMs?: number): Promise<T> {
    const { status, body: answer } = await this.call<T>('POST', path, body, timeoutMs);
    if (status !== 200) throw new Error(`POST ${path} answered ${status}: ${JSON.stringify(answer)}`);
    return answer;
  }

  /** The reconciliation report for these people (POST: any number of them fits). */
  async reconciliation(contactIds: string[]): Promise<ReconciliationReport> {
    // Three systems read per person: a few thousand people take a while.
    return this.post<ReconciliationReport>('/reconciliation', { contactIds }, 600000);
  }

  /** Every item of a paged list (limit 500 a page). */
  async all<T = any>(path: string): Promise<T[]> {
    const items: T[] = [];
    const join = path.includes('?') ? '&' : '?';
    for (let offset = 0; ; offset += 500) {
      const page = await this.get<{ items: T[]; total: number }>(`${path}${join}limit=500&offset=${offset}`);
      items.push(...page.items);
      if (page.items.length < 500 || items.length >= page.total) return items;
    }
  }
}
