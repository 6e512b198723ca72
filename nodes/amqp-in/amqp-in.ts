import { AmqpConsumer, AmqpPublisher, type AmqpChannelStatus, type AmqpDeadLetter, type AmqpExchangeType } from '../../adapters/amqp';
import { HubError, permanentError } from '../../adapters/errors';
import { deadLetterRecord, resubmissionBody } from '../../adapters/amqp/dead-letters';
import { amqpNodeStatus, type AmqpBrokerNode } from '../amqp-broker/shared';
import { hubPort, whenFlowsStarted } from '../port';
import type { Node, NodeAPI, NodeDef, NodeMessage } from '../types';

interface AmqpInDef extends NodeDef {
  broker: string;
  queue: string;
  exchange: string;
  exchangeType: AmqpExchangeType;
  routingKeys: string;
  format: 'json' | 'text';
}

/**
 * Consumes a queue. Each message enters the flow with msg.amqp, and is acknowledged only
 * when it is settled (journal stored it, or the flow finished with it); a message the flow
 * failed, or a body that is not JSON, goes to the queue's dead-letter queue with the reason.
 */
export = function register(RED: NodeAPI) {
  function AmqpIn(this: Node, config: AmqpInDef) {
    RED.nodes.createNode(this, config);
    const broker = RED.nodes.getNode(config.broker) as AmqpBrokerNode | null;
    if (!broker) {
      this.status({ fill: 'red', shape: 'ring', text: 'no broker configured' });
      this.error('amqp-in: choose an amqp-broker configuration');
      return;
    }
    let consumer: AmqpConsumer;
    try {
      consumer = new AmqpConsumer(
        broker.connection,
        {
          queue: config.queue,
          exchange: config.exchange,
          exchangeType: config.exchangeType || 'topic',
          routingKeys: (config.routingKeys || '').split(/[\s,]+/).filter(Boolean),
          format: config.format === 'text' ? 'text' : 'json',
          prefetch: broker.prefetch,
        },
        (delivery) =>
          new Promise<void>((resolve, reject) => {
            const msg: NodeMessage & { amqp: unknown } = {
              _msgid: RED.util.generateId(),
              payload: delivery.body,
              amqp: {
                routingKey: delivery.routingKey,
                exchange: delivery.exchange,
                headers: delivery.headers,
                messageId: delivery.messageId,
                redelivered: delivery.redelivered,
              },
            };
            hubPort(RED).settlement.await(msg, { settled: () => resolve(), failed: (error) => reject(error) });
            this.send(msg);
          }),
      );
    } catch (err) {
      this.status({ fill: 'red', shape: 'ring', text: (err as Error).message });
      this.error(`amqp-in: ${(err as Error).message}`);
      return;
    }
    consumer.on('status', (status: AmqpChannelStatus) => this.status(amqpNodeStatus(broker.connection.status, status)));
    consumer.on('dead-lettered', (d: AmqpDeadLetter) => {
      this.warn(`message ${d.messageId ?? '(no id)'} from ${d.queue} dead-lettered to ${d.deadLetterQueue}: ${d.reason}`);
      // Kept in the journal too, so that support sees it in the console's inbound failures and
      // can resubmit an edited copy; the dead-letter queue keeps the broker's own copy.
      const record = deadLetterRecord(d);
      hubPort(RED)
        .journal?.refuse({
          ...record,
          nodeId: this.id,
          error: new HubError('AMQP_DEAD_LETTER', record.reason, { transient: false }),
          where: { nodeId: this.id, nodeType: 'amqp-in', nodeName: config.name || config.queue },
        })
        .catch((err: Error) => this.warn(`dead letter ${d.deadLetterId} not kept for the console (it is still in ${d.deadLetterQueue}): ${err.message}`));
    });
    // A resubmission from the console: the edited copy arrives here as input and is published
    // to this node's own queue, so that it enters the flow like any message from the sender.
    let publisher: AmqpPublisher | undefined;
    this.on('input', async (msg: NodeMessage, _send: unknown, done: (err?: Error) => void) => {
      try {
        const body = resubmissionBody((msg as { payload?: unknown }).payload, config.format === 'text' ? 'text' : 'json');
        if (!publisher) {
          publisher = new AmqpPublisher(broker.connection);
          publisher.start();
        }
        const from = (msg as { journal?: { messageId?: string } }).journal?.messageId;
        await publisher.publish('', config.queue, body, { headers: { 'x-hub-resubmitted-from': from ?? 'console' } });
        done();
      } catch (err) {
        done(err instanceof HubError ? err : permanentError('RESUBMISSION_FAILED', `amqp-in: the resubmission could not be published to ${config.queue}: ${(err as Error).message}`, err));
      }
    });
    broker.register(this);
    if (broker.configured) whenFlowsStarted(RED, this, () => consumer.start());
    this.on('close', (_removed: boolean, done: () => void) => {
      broker.deregister(this);
      Promise.all([consumer.stop(), publisher?.stop()]).then(() => done(), () => done());
    });
  }
  RED.nodes.registerType('amqp-in', AmqpIn as any);
};
