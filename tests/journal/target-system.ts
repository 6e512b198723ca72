import http from 'http';
import net from 'net';

/**
 * A target system for the journal's end-to-end tests: takes address changes over HTTP
 * (POST /apply {requestId, personId, address}), idempotent on requestId like the council's
 * systems. It can answer, hang (never answer: the hub is killed mid-delivery), or reset the
 * connection (unavailable).
 */
export type TargetMode = 'answer' | 'hang' | 'reset';

export interface Change {
  requestId: string;
  personId: string;
  address: string;
}

export class TargetSystem {
  mode: TargetMode = 'answer';
  /** Every request, in arrival order (retries and replays included). */
  readonly received: Change[] = [];
  /** Changes applied, once per requestId, in the order applied. */
  readonly applied: Change[] = [];
  private readonly server: http.Server;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  constructor() {
    this.server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        let change: Change;
        try {
          change = JSON.parse(body);
        } catch {
          res.writeHead(400).end('not JSON');
          return;
        }
        this.received.push(change);
        if (this.mode === 'hang') return;
        if (this.mode === 'reset') {
          req.socket.destroy();
          return;
        }
        const first = !this.applied.some((c) => c.requestId === change.requestId);
        if (first) this.applied.push(change);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ result: first ? 'Updated' : 'Unchanged' }));
      });
    });
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this;
  }

  appliedFor(personId: string): string[] {
    return this.applied.filter((c) => c.personId === personId).map((c) => c.address);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
