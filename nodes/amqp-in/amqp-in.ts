import { AmqpConsumer, type AmqpChannelStatus, type AmqpDeadLetter, type AmqpExchangeType } from '../../adapters/amqp';
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
    consumer.on('dead-lettered', (d: AmqpDeadLetter) => this.warn(`message ${d.messageId ?? '(no id)'} from ${d.queue} dead-lettered to ${d.deadLetterQueue}: ${d.reason}`));
    broker.register(this);
    if (broker.configured) whenFlowsStarted(RED, this, () => consumer.start());
    this.on('close', (_removed: boolean, done: () => void) => {
      broker.deregister(this);
      consumer.stop().then(done, done);
    });
  }
  RED.nodes.registerType('amqp-in', AmqpIn as any);
};
