import type { Request, Response } from 'express';

/**
 * The console's live updates as server-sent events (GET /api/console/events): `counts` when
 * the deliveries by status and target change (looked at every `pollMs` while anyone
 * listens), `progress` while a bulk replay runs. The page reads the stream with fetch, so
 * its token stays in the Authorization header, never in a URL.
 */
export class LiveEvents {
  private readonly listeners = new Set<Response>();
  private timer?: NodeJS.Timeout;
  private lastCounts = '';

  constructor(
    private readonly counts: () => Promise<unknown>,
    private readonly pollMs = 2000,
  ) {}

  /** An Express handler: holds the response open as an event stream. */
  handler = (req: Request, res: Response): void => {
    res.status(200).set({ 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    res.flushHeaders();
    res.write(': council hub console events\n\n');
    this.listeners.add(res);
    this.lastCounts = ''; // the newcomer gets the counts at once
    this.ensurePolling();
    req.on('close', () => {
      this.listeners.delete(res);
      if (this.listeners.size === 0) this.stop();
    });
  };

  publish(event: string, data: unknown): void {
    const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const res of this.listeners) res.write(frame);
  }

  private ensurePolling(): void {
    if (this.timer) return;
    const tick = async () => {
      try {
        const counts = JSON.stringify(await this.counts());
        if (counts !== this.lastCounts) {
          this.lastCounts = counts;
          this.publish('counts', JSON.parse(counts));
        } else {
          for (const res of this.listeners) res.write(': still here\n\n'); // keeps proxies from closing an idle stream
        }
      } catch {
        // the journal is busy or stopping: the next tick tries again
      }
    };
    void tick();
    this.timer = setInterval(() => void tick(), this.pollMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  close(): void {
    this.stop();
    for (const res of this.listeners) res.end();
    this.listeners.clear();
  }
}
