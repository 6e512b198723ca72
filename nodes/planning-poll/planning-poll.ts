import type { Request, Response } from 'express';
import { PlanningPoller, type PlanningApplicationEvent, type PollerStatus, type SequenceReport } from '../../adapters/planning/poller';
import { pollAnswer } from './answer';
import { COUNCIL_TIME_ZONE, parseWeekdays } from '../../adapters/planning/hours';
import type { HubError } from '../../adapters/errors';
import type { SoapEndpointNode } from '../soap-endpoint/endpoint-node';
import { hubPort, whenFlowsStarted } from '../port';
import type { Node, NodeAPI, NodeDef, NodeMessage } from '../types';

interface PlanningPollDef extends NodeDef {
  /** The soap-endpoint config node of planning (session logon). */
  endpoint: string;
  /** Seconds between polls. */
  interval: string | number;
  /** Working hours, local time (Europe/London): "HH:MM". */
  start: string;
  end: string;
  /** Weekdays, "Mon,Tue,Wed,Thu,Fri". */
  days: string;
  /** maxEvents of each GetApplicationEvents call. */
  maxEvents: string | number;
  /** The cursor's name; empty: "planning:" and the soap-endpoint config node's id. */
  cursor: string;
  /** The cursor while none is stored (go-live: the sequence planning is at). */
  startAfter: string | number;
}

type Status = { fill?: 'red' | 'green' | 'yellow' | 'blue' | 'grey'; shape?: 'ring' | 'dot'; text?: string };

const EVENT_TOPIC = 'planning.application-event';
const REPORT_TOPIC = 'planning.sequence-report';
const POLL_ROUTE = '/council-hub/planning-poll/:id/poll';

/** The pollers of the nodes now deployed (the admin route finds them by node). */
const pollers = new WeakMap<object, { poller?: PlanningPoller; why?: string }>();

function number(value: string | number | undefined, fallback: number): number {
  if (value === undefined || value === null || String(value).trim() === '') return fallback;
  return Number(value);
}

const clock = new Intl.DateTimeFormat('en-GB', { timeZone: COUNCIL_TIME_ZONE, hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });

function statusOf(status: PollerStatus): Status {
  const cursor = status.cursor === undefined ? '' : `cursor ${status.cursor}`;
  const polled = status.lastPollAt ? `polled ${clock.format(status.lastPollAt)}` : 'not polled yet';
  const join = (...parts: string[]) => parts.filter(Boolean).join(' · ');
  switch (status.state) {
    case 'polling':
      return { fill: 'blue', shape: 'dot', text: join('polling', cursor) };
    case 'idle':
      return { fill: 'green', shape: 'dot', text: join(cursor, polled) };
    case 'outside-hours':
      return { fill: 'grey', shape: 'ring', text: join('outside working hours', cursor, polled) };
    case 'standby':
      return { fill: 'grey', shape: 'ring', text: join('standby: another hub instance polls', cursor) };
    case 'waiting':
      return { fill: 'yellow', shape: 'ring', text: join(String(status.detail ?? '').slice(0, 60), cursor) };
    case 'error':
      return { fill: 'red', shape: 'ring', text: join(`error: ${String(status.detail ?? '').slice(0, 60)}`, cursor) };
    default:
      return { fill: 'grey', shape: 'ring', text: join('stopped', cursor) };
  }
}

function reportText(report: SequenceReport, cursorName: string): string {
  return report.kind === 'gap'
    ? `planning ${cursorName}: sequence gap before ${report.applicationRef}: expected ${report.expected}, got ${report.got} (the event is taken; ${report.got - report.expected} sequence(s) never came)`
    : `planning ${cursorName}: sequence went backwards at ${report.applicationRef}: expected ${report.expected}, got ${report.got} (the event is not taken again)`;
}

/**
 * Takes planning's application events (GetApplicationEvents) into the hub during working
 * hours: one message per event on output 1, the cursor advanced once the journal has
 * stored each; gaps and backwards sequences on output 2. The work is adapters/planning.
 */
export = function register(RED: NodeAPI) {
  function PlanningPoll(this: Node, config: PlanningPollDef) {
    RED.nodes.createNode(this, config);
    const port = hubPort(RED);
    const endpoint = RED.nodes.getNode(config.endpoint) as SoapEndpointNode | null;
    let poller: PlanningPoller | undefined;
    let lastError = '';
    const refuse = (why: string) => {
      pollers.set(this, { why });
      this.status({ fill: 'red', shape: 'ring', text: why.slice(0, 80) });
      this.error(`planning-poll: ${why}`);
    };
    if (!endpoint?.client) {
      refuse('no soap-endpoint configured (choose the planning endpoint)');
    } else if (!port.cursors) {
      refuse('no cursor store: planning-poll runs only inside council-hub (the hub keeps its cursor)');
    } else {
      try {
        const client = endpoint.client;
        const cursorName = config.cursor?.trim() || `planning:${endpoint.id}`;
        poller = new PlanningPoller({
          call: (operation, args) => client.call(operation, args),
          cursors: port.cursors,
          cursorName,
          intervalMs: number(config.interval, 60) * 1000,
          maxEvents: number(config.maxEvents, 100),
          initialCursor: number(config.startAfter, 0),
          hours: { start: config.start || '07:00', end: config.end || '19:00', days: parseWeekdays(config.days ?? 'Mon,Tue,Wed,Thu,Fri') },
          redis: port.sharedRedis,
          lockKeyPrefix: `${port.redisPrefix}planning-poll:`,
          // a redeploy gives the event in hand 5 s to be stored (Node-RED waits 15 s for a node to close)
          stopWaitMs: 5000,
          onEvent: (event: PlanningApplicationEvent) =>
            new Promise<void>((resolve, reject) => {
              const msg: NodeMessage & Record<string, unknown> = {
                _msgid: RED.util.generateId(),
                topic: EVENT_TOPIC,
                payload: event,
                planning: { cursor: cursorName, sequence: event.sequence },
              };
              port.settlement.await(msg, { settled: () => resolve(), failed: (error) => reject(error) });
              this.send([msg, null]);
            }),
          onReport: (report: SequenceReport) => {
            this.warn(reportText(report, cursorName));
            this.send([null, { topic: REPORT_TOPIC, payload: { ...report, cursor: cursorName, at: new Date().toISOString() } }]);
          },
          onStatus: (status: PollerStatus) => {
            if (status.state === 'idle') lastError = '';
            this.status(statusOf(status));
          },
          // Planning down for an hour would log every poll: each new reason once.
          onError: (error: HubError) => {
            if (error.message !== lastError) this.error(`planning-poll: ${error.message} (${error.code}, ${error.transient ? 'transient' : 'permanent'})`);
            lastError = error.message;
          },
        });
        pollers.set(this, { poller });
        const started = poller;
        whenFlowsStarted(RED, this, () => started.start());
      } catch (err) {
        poller = undefined;
        refuse((err as Error).message);
      }
    }
    this.on('close', (_removed: boolean, done: () => void) => {
      pollers.delete(this);
      if (!poller) return done();
      poller.stop().then(done, done);
    });
  }
  RED.nodes.registerType('planning-poll', PlanningPoll as any);

  // Poll now (support): the editor's button on the node, or any admin client with console.write.
  RED.httpAdmin.post(POLL_ROUTE, RED.auth.needsPermission('console.write'), (req: Request, res: Response) => {
    const node = RED.nodes.getNode(req.params.id) as (Node & { type?: string }) | null;
    if (!node || node.type !== 'planning-poll') {
      res.status(404).json({ message: `no planning-poll node ${req.params.id} is deployed` });
      return;
    }
    const entry = pollers.get(node);
    if (!entry?.poller) {
      res.status(503).json({ message: `the node is not polling: ${entry?.why ?? 'it is stopping'}` });
      return;
    }
    entry.poller.pollNow().then(
      (result) => {
        const answer = pollAnswer(result);
        res.status(answer.status).json(answer.body);
      },
      (err: Error) => res.status(500).json({ message: err.message }),
    );
  });
};
