import type { NodeAPI, NodeDef, Node, Send, Done } from '../types';
import { getMessageProperty, setMessageProperty } from '../types';
import { normalisePostcode } from '../../adapters/address/postcode';

interface PostcodeNodeDef extends NodeDef {
  property: string;
}

/** Normalises a UK postcode in place; an invalid one is the message's error (Catch sees it). */
export = function register(RED: NodeAPI) {
  function PostcodeNode(this: Node, config: PostcodeNodeDef) {
    RED.nodes.createNode(this, config);
    const property = config.property || 'payload';
    this.on('input', (msg, send: Send, done: Done) => {
      try {
        setMessageProperty(RED, msg, property, normalisePostcode(getMessageProperty(RED, msg, property)));
        send(msg);
        done();
      } catch (err) {
        done(err as Error);
      }
    });
  }
  RED.nodes.registerType('postcode', PostcodeNode);
};
