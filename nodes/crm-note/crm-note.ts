import type { NodeAPI, NodeDef, Node, NodeMessage, Send, Done } from '../types';
import type { CrmAddContactNote } from '../../adapters/canonical';
import { noteOnAccountHolder } from '../../adapters/crm/notes';
import { permanentError } from '../../adapters/errors';
import type { SoapEndpointNode } from '../soap-endpoint/endpoint-node';
import { hubPort } from '../port';

interface CrmNoteDef extends NodeDef {
  endpoint: string;
  /** The mapping to the note (default payment-to-crm-note). */
  mapping: string;
}

/**
 * Notes a payment or a refund on the CRM contact who holds the account: maps it to a note
 * (payment-to-crm-note), finds the contact with FindContactByAccount and adds the note with
 * AddContactNote (once per sourceEventId, whatever is retried). Output 1: noted; output 2:
 * no contact holds the account (msg.reason, for a delivery-outcome "skipped": not an error).
 */
export = function register(RED: NodeAPI) {
  function CrmNoteNode(this: Node, config: CrmNoteDef) {
    RED.nodes.createNode(this, config);
    const endpoint = RED.nodes.getNode(config.endpoint) as SoapEndpointNode | null;
    if (endpoint) endpoint.register(this);
    else this.status({ fill: 'red', shape: 'ring', text: 'no CRM SOAP endpoint configured' });
    const mapping = (config.mapping || 'payment-to-crm-note').trim();

    this.on('input', async (msg: NodeMessage, send: Send, done: Done) => {
      try {
        if (!endpoint) throw permanentError('NODE_CONFIGURATION', 'crm-note: no CRM SOAP endpoint is configured');
        const m = msg as Record<string, any>;
        if (!m.delivery) throw permanentError('NOT_A_DELIVERY', 'crm-note: msg.delivery is missing (put a delivery node, target crm, before this one)');
        const note = await hubPort(RED).mappings.run<CrmAddContactNote>(mapping, m.payload);
        const outcome = await noteOnAccountHolder(note, (operation, args) => endpoint.client.call(operation, args));
        if (outcome.noted) {
          m.note = { contactId: outcome.contactId, noteId: outcome.noteId };
          this.status({ fill: 'green', shape: 'dot', text: `${note.sourceEventId}: note ${outcome.noteId} on ${outcome.contactId}` });
          send([msg, null]);
        } else {
          m.reason = outcome.reason;
          this.status({ fill: 'grey', shape: 'dot', text: outcome.reason });
          send([null, msg]);
        }
        done();
      } catch (err) {
        this.status({ fill: 'red', shape: 'ring', text: (err as Error).message.slice(0, 60) });
        done(err as Error);
      }
    });
  }
  RED.nodes.registerType('crm-note', CrmNoteNode);
};
