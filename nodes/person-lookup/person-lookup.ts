import type { NodeAPI, NodeDef, Node, NodeMessage, Send, Done } from '../types';
import type { PersonAddressChanged } from '../../adapters/canonical';
import type { EventMessage } from '../message';
import type { SoapEndpointNode } from '../soap-endpoint/endpoint-node';
import { findPerson, LookupSystem } from '../../adapters/people/lookup';
import { permanentError } from '../../adapters/errors';
import { requireCrossReferences } from '../port';

interface PersonLookupDef extends NodeDef {
  system: LookupSystem;
  endpoint: string;
}

/**
 * Finds the person of a person.address.changed event in planning or housing. Three
 * outputs: found (msg.person holds the system's ids, msg.bindings too, for the mapping),
 * no relationship (msg.reason), several candidates (msg.attention = {reason, candidates}).
 */
export = function register(RED: NodeAPI) {
  function PersonLookupNode(this: Node, config: PersonLookupDef) {
    RED.nodes.createNode(this, config);
    const endpoint = RED.nodes.getNode(config.endpoint) as SoapEndpointNode | null;
    if (endpoint) endpoint.register(this);
    else this.status({ fill: 'red', shape: 'ring', text: 'no SOAP endpoint configured' });

    this.on('input', async (msg: NodeMessage, send: Send, done: Done) => {
      try {
        if (!endpoint) throw permanentError('NODE_CONFIGURATION', 'person-lookup: no SOAP endpoint is configured');
        const xref = requireCrossReferences(RED);
        const m = msg as EventMessage<PersonAddressChanged>;
        const event = m.payload ?? {};
        const contactId = m.journal?.key ?? event.person?.ids?.crmContactId;
        const result = await findPerson(
          config.system,
          // findPerson refuses (permanently) a person without a contact id, surname or previous UPRN.
          {
            contactId: contactId ?? '',
            surname: event.person?.surname ?? '',
            forename: event.person?.forename,
            dateOfBirth: event.person?.dateOfBirth,
            // Known to the hub, withheld from this system by the sharing rules: compared, not sent.
            knownDateOfBirth: (m.shared as { before?: Partial<PersonAddressChanged> } | undefined)?.before?.person?.dateOfBirth,
            previousUprn: event.previousAddress?.uprn ?? '',
          },
          { call: (operation, args) => endpoint.client.call(operation, args), xref },
        );
        if (result.outcome === 'found') {
          m.person = { ...result.ids, via: result.via };
          m.bindings = { ...(m.bindings ?? {}), ...result.ids, requestId: m.delivery?.idempotencyKey ?? event.eventId };
          send([msg, null, null]);
        } else if (result.outcome === 'none') {
          m.reason = result.reason;
          send([null, msg, null]);
        } else {
          m.attention = { reason: result.reason, candidates: result.candidates };
          send([null, null, msg]);
        }
        done();
      } catch (err) {
        done(err as Error);
      }
    });
    this.on('close', () => endpoint?.deregister(this));
  }
  RED.nodes.registerType('person-lookup', PersonLookupNode);
};
