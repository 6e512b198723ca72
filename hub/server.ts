import crypto from 'crypto';
import fs from 'fs';
import http from 'http';
import path from 'path';
import express from 'express';
import RED from 'node-red';
import { flowEnvironment, type HubConfig } from './config';
import { adminAuth, consolePermissions } from './security';
import { metricsRegistry } from './metrics';
import { openStores } from './composition';
import { checkRedisDurability } from './store-durability';
import { hubPortOf } from './composition';
import { PORT_SETTING, type HubPort } from './port';
import { observerFor } from './runtime/message-observer';
import { Settlement } from './runtime/settlement';
import { FlowTracker } from './flow-tracking/tracker';
import { consoleApi } from './api/console-api';
import { dpoApi } from './api/dpo-api';
import { PersonalData } from './privacy/people';
import { describeRetention, runRetention } from './privacy/retention';
import { bodyErrorAnswer, reconciliationApi } from './api/reconciliation-api';
import { caseReconciliationApi } from './api/case-reconciliation-api';
import { peopleApi } from './api/people-api';
import { LiveEvents } from './api/live';
import { ResponseTimes } from './api/response-times';
import { consolePage } from './console/page';

/** Where webhook nodes (govuk-pay-in) listen: their bodies reach them as the raw bytes. */
export const WEBHOOK_ROOT = '/webhooks';
import type { DemoBackOffice } from './demo';
import { Instances } from './instances';
import { StartupWork } from './startup-work';

export interface RunningHub {
  url: string;
  server: http.Server;
  red: typeof RED;
  config: HubConfig;
  /** The demo profile's in-process back-office systems. */
  backOffice?: DemoBackOffice;
  /** HUB_STORE=redis: this instance's lease and the takeovers of lapsed ones. */
  instances?: Instances;
  stop(): Promise<void>;
}

/** Node-RED's settings for the embedded runtime, derived from the hub's configuration. */
export function nodeRedSettings(config: HubConfig, port?: HubPort) {
  return {
    uiHost: config.host,
    uiPort: config.port,
    httpAdminRoot: '/',
    httpNodeRoot: '/',
    userDir: path.join(config.dataDir, 'node-red'),
    flowFile: config.flowFile,
    flowFilePretty: true,
    credentialSecret: config.credentialSecret,
    adminAuth: adminAuth(config.users),
    // The repository is itself a Node-RED module (package.json "node-red" section): its
    // nodes land in the palette and examples/ in Import > Examples.
    nodesDir: [config.paths.root],
    functionExternalModules: false,
    externalModules: { palette: { allowInstall: false }, modules: { allowInstall: false } },
    telemetry: { enabled: false, updateNotification: false },
    diagnostics: { enabled: false },
    runtimeState: { enabled: false, ui: false },
    editorTheme: {
      page: { title: 'council hub' },
      header: { title: 'council hub' },
      projects: { enabled: false },
      tours: false,
    },
    logging: { console: { level: config.logLevel, metrics: false, audit: config.profile === 'production' } },
    // The hub's port for its nodes (hub/port.ts): how they reach the journal and stores.
    ...(port ? { [PORT_SETTING]: port } : {}),
  };
}

/**
 * Starts Node-RED inside the hub's own HTTP server: editor, admin API, httpNode routes,
 * /healthz, /livez and /metrics share one port. Node-RED is a per-process singleton, so
 * one process runs one hub. The order matters: stores (composition root), the demo back
 * office (its endpoints are the flows' environment), the message observer and its
 * consumers, then the flows.
 */
export interface HubHooks {
  /**
   * The instance lost its lease (HUB_STORE=redis): another instance may be doing its work
   * now. `npm start` exits (code 75) so that its supervisor starts it afresh; by default the
   * hub stops.
   */
  stepDown?: (reason: string) => void;
}

export async function startHub(config: HubConfig, hooks: HubHooks = {}): Promise<RunningHub> {
  fs.mkdirSync(path.join(config.dataDir, 'node-red'), { recursive: true });
  const releases: Array<() => Promise<void>> = [];
  const stores = openStores(config);
  releases.push(() => stores.close());
  if (stores.redis) {
    // Before anything is acknowledged: is what Redis acknowledges kept if Redis crashes?
    await checkRedisDurability(config, stores.redis).catch(async (err) => {
      await stores.close();
      throw err;
    });
  }
  let stopHub: () => Promise<void> = async () => undefined;
  let stopping: Promise<void> | undefined;
  // Several instances on one Redis: a lease each, and takeover of a dead one's work.
  let instances: Instances | undefined;
  if (stores.redis) {
    const running = new Instances({
      redis: stores.redis,
      prefix: config.journal.redisPrefix,
      journal: stores.journal,
      leaseMs: config.journal.leaseMs,
      stepDown: (reason) => {
        RED.log.error(`council-hub: instance ${config.journal.instance} lost its lease and steps down: ${reason}`);
        if (hooks.stepDown) hooks.stepDown(reason);
        else void stopHub();
      },
      log: { info: (m) => RED.log.info(m), warn: (m) => RED.log.warn(m) },
    });
    await running.start();
    instances = running;
    releases.push(() => running.stop());
    stores.health.register('instances', () => running.describe());
  }
  // Fencing: a write refused because another instance took the delivery over.
  stores.journal.on('fenced', (f: { deliveryId: string; owner: string; what: string }) =>
    RED.log.warn(`council-hub: delivery ${f.deliveryId} now belongs to instance ${f.owner}; this instance (${config.journal.instance}) may not ${f.what}`),
  );

  const app = express();
  app.disable('x-powered-by');
  const server = http.createServer(app);

  // Ready only once the flows run: before that the flows' SOAP services and routes answer
  // 404, and a load balancer must not send traffic. /livez says only that the process answers.
  let ready = false;
  app.get('/livez', (_req, res) => {
    res.json({ status: 'alive', ready });
  });
  app.get('/healthz', async (_req, res) => {
    const report = await stores.health.report();
    if (!ready) {
      res.status(503).json({ ...report, status: 'starting', detail: 'the flows are not started yet' });
      return;
    }
    res.status(report.status === 'up' ? 200 : 503).json(report);
  });
  app.get('/metrics', async (req, res) => {
    // HUB_METRICS_TOKEN: Prometheus sends it as a bearer token (docker/prometheus.yml).
    if (config.metricsToken && !bearerMatches(req.headers.authorization, config.metricsToken)) {
      res.status(401).set('WWW-Authenticate', 'Bearer realm="council-hub metrics"').json({ error: 'the metrics need Authorization: Bearer <HUB_METRICS_TOKEN>' });
      return;
    }
    res.set('Content-Type', metricsRegistry.contentType).send(await metricsRegistry.metrics());
  });

  // The demo profile's simulators start first: the flows read their endpoints at start.
  // Loaded only in the demo: production never loads the simulators' code.
  let backOffice: DemoBackOffice | undefined;
  if (config.simulators) {
    const { startDemoBackOffice } = require('./demo') as typeof import('./demo');
    const shownHost = config.host === '0.0.0.0' ? '127.0.0.1' : config.host;
    const started = await startDemoBackOffice(config, `http://${shownHost}:${config.port}`);
    backOffice = started;
    releases.push(() => started.stop());
  }

  // One observer of Node-RED's message runtime; settlement and journey tracking consume it.
  const observer = observerFor(RED.hooks as never);
  const settlement = new Settlement(observer, () => RED.util.generateId(), (message) => RED.log.warn(`council-hub: ${message}`));
  const startup = new StartupWork();
  const port = hubPortOf(config, stores, settlement, startup);
  RED.init(server, nodeRedSettings(config, port) as any);
  const tracker = new FlowTracker(
    stores.journal,
    { observer, getNode: (id) => (RED.nodes as unknown as { getNode(id: string): unknown }).getNode(id), events: RED.events, log: RED.log },
    {
      pollMs: config.journal.pollMs,
      pruneEveryMs: config.journal.retentionEveryMs,
      retention: async () => RED.log.info(`council-hub: ${describeRetention(await runRetention(stores.journal, config.journal.retention, stores.accessLog))}`),
    },
  );
  tracker.start();
  releases.push(() => tracker.stop());

  // The support console's API (behind the login) and page (its data comes from the API).
  const look = RED.auth.needsPermission(consolePermissions.look);
  const act = RED.auth.needsPermission(consolePermissions.act);
  const live = new LiveEvents(() => stores.journal.store.counts());
  releases.push(async () => live.close());
  const responseTimes = new ResponseTimes(metricsRegistry, { sampleMs: config.responseTimesSampleMs, alertFailingMs: config.alertFailingMs });
  responseTimes.start();
  releases.push(async () => responseTimes.stop());
  RED.httpAdmin.get('/api/console/events', look, live.handler);
  RED.httpAdmin.get('/api/console/response-times', look, (_req: express.Request, res: express.Response) => {
    res.json(responseTimes.report());
  });
  RED.httpAdmin.use('/api/console', consoleApi(stores.journal, { read: look, write: act }, stores.accessLog, { live }));
  RED.httpAdmin.use(
    '/api/console',
    dpoApi(RED.auth.needsPermission(consolePermissions.dpo), {
      journal: stores.journal,
      people: new PersonalData(stores.journal, stores.crossReferences),
      accessLog: stores.accessLog,
      retention: config.journal.retention,
      log: (message) => RED.log.info(`council-hub: ${message}`),
    }),
  );
  RED.httpAdmin.use('/api/console', peopleApi({ read: look, write: act }, { journal: stores.journal, crossReferences: stores.crossReferences, environment: flowEnvironment, accessLog: stores.accessLog }));
  RED.httpAdmin.use('/api/console', caseReconciliationApi(look, { journal: stores.journalStore, mappings: stores.mappings, environment: flowEnvironment }));
  RED.httpAdmin.use('/api/console', reconciliationApi(look, { journal: stores.journalStore, crossReferences: stores.crossReferences, environment: flowEnvironment, accessLog: stores.accessLog }));
  // Last: a malformed or oversized JSON body that Node-RED's admin parser refused before any
  // route ran is answered in JSON (after the login is checked), never with Express's HTML page.
  RED.httpAdmin.use('/api/console', consoleBodyErrors(look));
  app.use('/console', consolePage());
  // Webhooks are signed over their exact bytes: the body is kept raw here, before the editor's
  // JSON parser (the admin app at '/') would read it. Webhook nodes listen under /webhooks/.
  app.use(WEBHOOK_ROOT, express.raw({ type: () => true, limit: '1mb' }));
  app.use('/', RED.httpAdmin);
  app.use('/', RED.httpNode);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  // "Up" means the flows are running and their SOAP services answer, not just the editor:
  // wait for Node-RED to start them, then for the work their nodes started (a deploy too).
  let starts = 0;
  const flowsStarted = new Promise<void>((resolve) => RED.events.once('flows:started', () => resolve()));
  RED.events.on('flows:started', () => {
    const start = ++starts;
    void startup.finished().then(() => {
      if (start === starts) ready = true;
    });
  });
  RED.events.on('flows:stopped', () => {
    starts++;
    ready = false;
  });
  await RED.start();
  await flowsStarted;
  await startup.finished();
  const address = server.address();
  const listening = typeof address === 'object' && address ? address.port : config.port;
  const shownHost = config.host === '0.0.0.0' ? 'localhost' : config.host;
  const hub: RunningHub = {
    url: `http://${shownHost}:${listening}`,
    server,
    red: RED,
    config,
    backOffice,
    instances,
    // Once only, whoever asks first (a signal, a step-down, a test).
    stop: () => (stopping ??= (async () => {
      ready = false;
      await RED.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      for (const release of releases.reverse()) await release();
      observer.uninstall();
    })()),
  };
  stopHub = () => hub.stop();
  return hub;
}

/** The request's bearer token is the expected one (compared in constant time). */
function bearerMatches(header: string | undefined, expected: string): boolean {
  const match = /^Bearer (.+)$/.exec(header ?? '');
  if (!match) return false;
  const given = Buffer.from(match[1]);
  const wanted = Buffer.from(expected);
  return given.length === wanted.length && crypto.timingSafeEqual(given, wanted);
}

function consoleBodyErrors(read: express.RequestHandler): express.ErrorRequestHandler {
  return (err, req, res, next) => {
    if (res.headersSent) return next(err);
    read(req, res, (denied?: unknown) => {
      if (denied) return next(denied);
      const { status, error } = bodyErrorAnswer(err);
      // bodyErrorAnswer speaks of contact ids for a body too large: say it of any body here
      res.status(status).json({ error: status === 413 ? 'the body is larger than the hub takes (5 MiB)' : error });
    });
  };
}
