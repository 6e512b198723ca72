import fs from 'fs';
import http from 'http';
import path from 'path';
import express from 'express';
import RED from 'node-red';
import type { HubConfig } from './config';
import { adminAuth } from './security';
import { healthReport } from './health';
import { metricsRegistry } from './metrics';
import { repoRoot } from './paths';
import { registerRabbitmqHealth, registerRedisHealth } from './dependencies';
import { openSqlite } from './store';
import { hubServices } from './services';
import { SqliteCrossReferences, RedisCrossReferences } from './xref';
import { startDemoBackOffice } from './demo';
import type { RunningSimulators } from '../simulators';
import Redis from 'ioredis';
import { attachJournal } from './journal/attach';
import { consolePage } from './console/page';

export interface RunningHub {
  url: string;
  server: http.Server;
  red: typeof RED;
  config: HubConfig;
  /** The demo profile's in-process back-office systems. */
  backOffice?: RunningSimulators;
  stop(): Promise<void>;
}

/** Node-RED's settings for the embedded runtime, derived from the hub's configuration. */
export function nodeRedSettings(config: HubConfig) {
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
    nodesDir: [repoRoot],
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
  };
}

/**
 * Starts Node-RED inside the hub's own HTTP server: editor, admin API, httpNode routes,
 * /healthz and /metrics share one port. Node-RED is a per-process singleton, so one
 * process runs one hub.
 */
export async function startHub(config: HubConfig): Promise<RunningHub> {
  fs.mkdirSync(path.join(config.dataDir, 'node-red'), { recursive: true });
  const releases: Array<() => Promise<void>> = [];
  const store = openSqlite(config.dataDir);
  releases.push(async () => {
    store.close();
  });
  if (config.rabbitmqUrl) releases.push(registerRabbitmqHealth(config.rabbitmqUrl));
  if (config.redisUrl) releases.push(registerRedisHealth(config.redisUrl));

  const app = express();
  app.disable('x-powered-by');
  const server = http.createServer(app);

  app.get('/healthz', async (_req, res) => {
    const report = await healthReport();
    res.status(report.status === 'up' ? 200 : 503).json(report);
  });
  app.get('/metrics', async (_req, res) => {
    res.set('Content-Type', metricsRegistry.contentType).send(await metricsRegistry.metrics());
  });

  // Whom the hub found in each system: in Redis when several instances share the work.
  if (config.store === 'redis' && config.redisUrl) {
    const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 3 });
    redis.on('error', () => undefined); // surfaced through /healthz and the calls that fail
    // Beside the journal's keys, so a deployment's (or a test run's) prefix keeps them together.
    hubServices.crossReferences = new RedisCrossReferences(redis, `${process.env.HUB_JOURNAL_PREFIX || 'council-hub:journal:'}xref:`);
    // Shared with the nodes: e.g. sftp-watch's lock, so one instance polls a folder at a time.
    hubServices.redis = redis;
    releases.push(async () => {
      delete hubServices.redis;
      redis.disconnect();
    });
  } else {
    hubServices.crossReferences = new SqliteCrossReferences(store);
  }

  // The demo profile's simulators start first: the flows read their endpoints at start.
  let backOffice: RunningSimulators | undefined;
  if (config.simulators) {
    const shownHost = config.host === '0.0.0.0' ? '127.0.0.1' : config.host;
    const started = await startDemoBackOffice(config, `http://${shownHost}:${config.port}`);
    backOffice = started;
    releases.push(() => started.stop());
  }

  RED.init(server, nodeRedSettings(config) as any);
  // The journal: store, flow hooks, retries, recovery, console API (before RED.start, so nodes find it).
  const journal = attachJournal(RED, config, store);
  releases.push(() => journal.stop());
  // The support console's page (its data comes from /api/console, behind the login).
  app.use('/console', consolePage());
  app.use('/', RED.httpAdmin);
  app.use('/', RED.httpNode);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  // "Up" means the flows are running, not just the editor: wait for Node-RED to start them.
  const flowsStarted = new Promise<void>((resolve) => RED.events.once('flows:started', () => resolve()));
  await RED.start();
  await flowsStarted;
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const shownHost = config.host === '0.0.0.0' ? 'localhost' : config.host;
  return {
    url: `http://${shownHost}:${port}`,
    server,
    red: RED,
    config,
    backOffice,
    async stop() {
      await RED.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      for (const release of releases.reverse()) await release();
    },
  };
}
