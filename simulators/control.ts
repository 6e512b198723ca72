import http from 'http';
import express from 'express';
import { FaultSettingsError, FaultSwitch } from './faults';

/**
 * The control and inspection side of a simulator, for tests, demos and benchmarks:
 * in-process through this interface, over HTTP through controlRouter (mounted at
 * /_control on the simulator's own port, and at /_control/<system> on the control port).
 */
export interface SimulatorControl {
  readonly system: string;
  readonly faults: FaultSwitch;
  /** Everything the simulator holds, as plain JSON. */
  state(): unknown;
  /** Named actions (raise an event, write a file...), POST /_control/actions/<name> with a JSON body. */
  readonly actions: Readonly<Record<string, (input: any) => unknown>>;
}

export class ActionInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ActionInputError';
  }
}

/**
 * GET  /              system, faults, action names
 * GET  /state         state()
 * GET  /faults        the fault settings
 * POST /faults        merge settings ({"down":"unavailable"}, {"failNext":3}...); PUT and PATCH alike
 * DELETE /faults      all faults off
 * POST /actions/:name run an action
 * A bad request gets 400 with {"error": "..."}.
 */
export function controlRouter(control: SimulatorControl): express.Router {
  const router = express.Router();
  router.use(express.json({ limit: '1mb' }));
  router.get('/', (_req, res) => {
    res.json({ system: control.system, faults: control.faults.settings, actions: Object.keys(control.actions) });
  });
  router.get('/state', (_req, res) => {
    res.json(control.state());
  });
  router.get('/faults', (_req, res) => {
    res.json(control.faults.settings);
  });
  const setFaults: express.RequestHandler = async (req, res) => {
    try {
      res.json(await control.faults.set(req.body));
    } catch (err) {
      res.status(err instanceof FaultSettingsError ? 400 : 500).json({ error: (err as Error).message });
    }
  };
  router.post('/faults', setFaults);
  router.put('/faults', setFaults);
  router.patch('/faults', setFaults);
  router.delete('/faults', async (_req, res) => {
    res.json(await control.faults.reset());
  });
  router.post('/actions/:name', async (req, res) => {
    const action = Object.prototype.hasOwnProperty.call(control.actions, req.params.name) ? control.actions[req.params.name] : undefined;
    if (!action) {
      res.status(404).json({ error: `no action "${req.params.name}" (known: ${Object.keys(control.actions).join(', ')})` });
      return;
    }
    try {
      const result = await action(req.body ?? {});
      res.json(result ?? { done: true });
    } catch (err) {
      res.status(err instanceof ActionInputError ? 400 : 500).json({ error: (err as Error).message });
    }
  });
  // express.json's own errors (malformed JSON) as a 400 with a message
  router.use(((err, _req, res, _next) => {
    res.status(err.status && err.status < 500 ? err.status : 500).json({ error: err.message });
  }) as express.ErrorRequestHandler);
  return router;
}

export interface ControlServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** One HTTP server with every simulator's control at /_control/<system>, reachable even while a SOAP simulator's own port is closed. */
export async function startControlServer(controls: readonly SimulatorControl[], host: string, port: number): Promise<ControlServer> {
  const app = express();
  for (const control of controls) app.use(`/_control/${control.system}`, controlRouter(control));
  app.get('/_control', (_req, res) => {
    res.json(Object.fromEntries(controls.map((c) => [c.system, { faults: c.faults.settings, actions: Object.keys(c.actions) }])));
  });
  const server = http.createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const actual = (server.address() as { port: number }).port;
  return {
    url: `http://${host}:${actual}/_control`,
    port: actual,
    close: () => closeServer(server),
  };
}

/** Closes a server and every open connection, so that no keep-alive socket holds the port. */
export function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
