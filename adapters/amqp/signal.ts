/**
 * Lets any number of waiters sleep until "something changed" (connected, unblocked,
 * drained), then re-check their own condition. Unlike EventEmitter.once it has no
 * listener limit, so hundreds of publishes can wait for one reconnect.
 */
export class Signal {
  private waiters: Array<() => void> = [];

  wait(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  notify(): void {
    const waiting = this.waiters;
    this.waiters = [];
    for (const wake of waiting) wake();
  }
}
