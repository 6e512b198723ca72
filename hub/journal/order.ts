import { DeliveryRecord, openStatuses } from './types';

/** Is delivery a a newer change than b? Compared on the order value first (e.g. when the
 * resident's change was raised, the day a planning event happened), then when the hub
 * received the message (a restart may start an older message's delivery after a newer
 * one's), then the hub's own sequence. */
export function isNewer(a: Pick<DeliveryRecord, 'order' | 'seq' | 'received'>, b: Pick<DeliveryRecord, 'order' | 'seq' | 'received'>): boolean {
  if (a.order !== b.order) return a.order > b.order;
  const ra = a.received ?? 0;
  const rb = b.received ?? 0;
  if (ra !== rb) return ra > rb;
  return a.seq > b.seq;
}

/** The newest delivery of a key that was delivered or is still open (what a new change is compared with). */
export function newestLive(deliveries: DeliveryRecord[]): DeliveryRecord | undefined {
  let newest: DeliveryRecord | undefined;
  for (const d of deliveries) {
    if (d.status !== 'delivered' && !openStatuses.includes(d.status)) continue;
    if (!newest || isNewer(d, newest)) newest = d;
  }
  return newest;
}
