import { everyItem, type JournalStore, type MessageRecord } from './journal/types';

/**
 * Which address does a target system hold for a person? Its lookups (FindParty,
 * FindTenant, Revenues' own matching) only know that one. Normally it is the previous
 * address of the change being sent; but when an earlier change never reached the system
 * (it failed, or a newer change superseded it), the system still holds an older one:
 *   - the new address of the latest change the system took (delivered), else
 *   - the old address of the first change the hub was given for the person.
 * Answers undefined when the journal cannot tell (no UPRN recorded): the change's own
 * previous address is then used.
 */
export interface HeldAddress {
  uprn: string;
  basis: 'last-delivered' | 'first-change';
  messageId: string;
}

type CrmAddress = { uprn?: unknown } | undefined;

function uprnOf(address: CrmAddress): string | undefined {
  const uprn = address && typeof address === 'object' ? address.uprn : undefined;
  return typeof uprn === 'string' && /^\d{1,12}$/.test(uprn.trim()) ? uprn.trim() : undefined;
}

/** When the CRM raised the change (ms), else when the hub received it. */
function raisedAt(message: MessageRecord): number {
  const raised = Date.parse(String((message.payload as { raisedAt?: unknown } | undefined)?.raisedAt ?? ''));
  return Number.isFinite(raised) ? raised : message.receivedAt;
}

/** The CRM event's addresses, as the journal stored the message. */
function addresses(message: MessageRecord): { old?: string; new?: string } {
  const payload = message.payload as { oldAddress?: CrmAddress; newAddress?: CrmAddress } | undefined;
  return { old: uprnOf(payload?.oldAddress), new: uprnOf(payload?.newAddress) };
}

/**
 * The UPRN the delivery sent, from the message it keeps for replay: the canonical event
 * (after the gazetteer resolved a free-text address) or what was mapped from it (the
 * planning and housing arguments' address, a revenues row).
 */
function sentUprn(msg: Record<string, unknown> | undefined): string | undefined {
  const payload = msg?.payload as { newAddress?: CrmAddress; address?: CrmAddress; uprn?: unknown } | undefined;
  return uprnOf(payload?.newAddress) ?? uprnOf(payload?.address) ?? uprnOf(payload as CrmAddress);
}

/** The previous address's UPRN in a kept message: the canonical event, or a revenues row. */
function previousUprnSent(msg: Record<string, unknown> | undefined): string | undefined {
  const payload = msg?.payload as { previousAddress?: CrmAddress; previous_uprn?: unknown } | undefined;
  return uprnOf(payload?.previousAddress) ?? uprnOf({ uprn: payload?.previous_uprn });
}

export async function heldAddress(store: JournalStore, target: string, key: string): Promise<HeldAddress | undefined> {
  // Every delivery of the key in one read (no page count): the order gate has just read the same ones.
  const delivered = (await store.deliveriesOfKey(target, key)).filter((d) => d.status === 'delivered');
  const latest = delivered.sort((a, b) => b.order - a.order || b.seq - a.seq)[0];
  if (latest) {
    const message = await store.getMessage(latest.messageId);
    const uprn = (message && addresses(message).new) ?? sentUprn(latest.resume?.msg);
    return uprn ? { uprn, basis: 'last-delivered', messageId: latest.messageId } : undefined;
  }
  const messages = await everyItem((page) => store.listMessages({ key, ...page }));
  // First by when the person moved (the CRM's raisedAt), not by when the hub received it:
  // after a restart or a redelivery a later move can arrive first.
  const first = messages.filter((m) => !m.editedFrom).sort((a, b) => raisedAt(a) - raisedAt(b) || a.receivedAt - b.receivedAt)[0];
  if (!first) return undefined;
  let uprn = addresses(first).old;
  if (!uprn) {
    // The CRM gave the old address as free text: the gazetteer's answer is in what the first change's delivery kept.
    const kept = await everyItem((page) => store.listDeliveries({ target, key, messageId: first.id, ...page }));
    uprn = kept.map((d) => previousUprnSent(d.resume?.msg)).find(Boolean);
  }
  return uprn ? { uprn, basis: 'first-change', messageId: first.id } : undefined;
}
