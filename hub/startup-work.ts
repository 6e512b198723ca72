/**
 * Work a node starts when the flows start and that must finish before the hub is ready:
 * a SOAP service reads its WSDL before it answers on its path, and until then its callers
 * get 404. /healthz says 200 only once every piece tracked so far has finished (hosted or
 * failed: a node that failed shows it in its status and in the log, and waiting longer
 * would not mend it).
 */
export class StartupWork {
  private readonly pending = new Set<Promise<unknown>>();

  track(work: Promise<unknown>): void {
    const settled = work.then(
      () => undefined,
      () => undefined,
    );
    this.pending.add(settled);
    void settled.then(() => this.pending.delete(settled));
  }

  /** Resolves once everything tracked until now, and anything tracked while waiting, has finished. */
  async finished(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
  }
}
