import { AmqpPublisher, type AmqpChannelStatus } from '../../adapters/amqp';
import { amqpNodeStatus, type AmqpBrokerNode } from '../amqp-broker/shared';
import type { Done, Node, NodeAPI, NodeDef, Send } from '../types';

interface AmqpOutDef extends NodeDef {
  broker: string;
  exchange: string;
  routingKey: string;
}

/**
 * Publishes msg.payload as JSON, persistent and mandatory. The message goes on (and is
 * done) only once the broker has confirmed it; a message no queue would take is an error
 * of that message.
 */
export = function register(RED: NodeAPI) {
  function AmqpOut(this: Node, config: AmqpOutDef) {
    RED.nodes.createNode(this, config);
    const broker = RED.nodes.getNode(config.broker) as AmqpBrokerNode | null;
    if (!broker) {
      this.status({ fill: 'red', shape: 'ring', text: 'no broker configured' });
      this.on('input', (_msg, _send: Send, done: Done) => done(new Error('amqp-out: choose an amqp-broker configuration')));
      return;
    }
    const publisher = new AmqpPublisher(broker.connection);
    publisher.on('status', (status: AmqpChannelStatus) => this.status(amqpNodeStatus(broker.connection.status, status)));
    broker.register(this);
    if (broker.configured) publisher.start();
    const exchange = (config.exchange || '').trim();
    this.on('input', async (msg: any, send: Send, done: Done) => {
      try {
        const routingKey = (config.routingKey || '').trim() || msg.routingKey;
        if (typeof routingKey !== 'string' || !routingKey) throw new Error('no routing key: set one on the node or in msg.routingKey');
        await publisher.publish(exchange, routingKey, msg.payload, {
          messageId: typeof msg.messageId === 'string' && msg.messageId ? msg.messageId : msg._msgid,
        });
        send(msg);
        done();
      } catch (err) {
        done(err as Error);
      }
    });
    this.on('close', (_removed: boolean, done: () => void) => {
      broker.deregister(this);
      publisher.stop().then(done, done);
    });
  }
  RED.nodes.registerType('amqp-out', AmqpOut as any);
};
