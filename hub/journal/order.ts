import { DeliveryRecord, openStatuses } from './types';

/** Is delivery a a newer change than b? Compared on (order, seq): the order value first
 * (e.g. when the resident's change was raised), the hub's own sequence to break ties. */
export function isNewer(a: Pick<DeliveryRecord, 'order' | 'seq'>, b: Pick<DeliveryRecord, 'order' | 'seq'>): boolean {
  return a.order > b.order || (a.order === b.order && a.seq > b.seq);
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
