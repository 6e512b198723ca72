import type { NodeAPI, NodeDef, Node, NodeMessage, Send, Done } from '../types';
import { permanentError } from '../../adapters/errors';
import type { PersonAddressChanged } from '../../adapters/canonical';
import type { EventMessage } from '../message';
import { requireJournal } from '../port';

/**
 * Puts the address the target system still holds for the person into
 * msg.payload.previousAddress.uprn, so that its lookup finds them even when an earlier
 * change never reached it. Place it right after the delivery node.
 */
export = function register(RED: NodeAPI) {
  function HeldAddressNode(this: Node, config: NodeDef) {
    RED.nodes.createNode(this, config);
    this.on('input', async (msg: NodeMessage, send: Send, done: Done) => {
      try {
        const m = msg as EventMessage<PersonAddressChanged>;
        const target = m.delivery?.target;
        const key = m.delivery?.key;
        if (typeof target !== 'string' || typeof key !== 'string') throw permanentError('NOT_A_DELIVERY', 'held-address: msg.delivery is missing (put a delivery node before this one)');
        if (!m.payload?.previousAddress || typeof m.payload.previousAddress !== 'object') throw permanentError('NO_PREVIOUS_ADDRESS', 'held-address: msg.payload.previousAddress is missing');
        const held = await requireJournal(RED).heldAddress(target, key);
        if (held && held.uprn !== m.payload.previousAddress.uprn) {
          // Only the UPRN is known of the held address; the rest of the old change's address does not apply.
          // (so from here previousAddress is a partial BS7666 address: the mappings read only its UPRN).
          (m.payload as { previousAddress: Partial<PersonAddressChanged['previousAddress']> }).previousAddress = { uprn: held.uprn };
          this.status({ fill: 'yellow', shape: 'dot', text: `${key}: ${target} still holds ${held.uprn}` });
        }
        m.heldAddress = held ?? null;
        send(msg);
        done();
      } catch (err) {
        done(err as Error);
      }
    });
  }
  RED.nodes.registerType('held-address', HeldAddressNode);
};
