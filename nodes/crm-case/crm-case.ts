import type { NodeAPI, NodeDef, Node, NodeMessage, Send, Done } from '../types';
import type { CaseUpdated } from '../../adapters/canonical';
import { findOrCreateCase, partiesOf } from '../../adapters/crm/cases';
import { permanentError } from '../../adapters/errors';
import type { SoapEndpointNode } from '../soap-endpoint/endpoint-node';
import type { EventMessage } from '../message';
import { hubPort, requireJournal } from '../port';

interface CrmCaseDef extends NodeDef {
  endpoint: string;
  /** The mapping from case.updated to AddCaseUpdate's arguments (default case-to-crm). */
  mapping: string;
}

/**
 * Puts a case.updated event on its CRM case: finds the case (external ref: planning +
 * applicationRef, housing + jobRef) or creates it, linked to the CRM contact when the hub
 * knows whose the application or tenancy is (the reverse cross-references), then
 * AddCaseUpdate (mapped with case-to-crm; sourceEventId makes it once). An update that
 * arrives after a newer one of the same case was added keeps the case's status the newer
 * one's. One node for the three steps on purpose: a retry or a replay runs this node again,
 * so whether the update is late is decided afresh, when it is sent.
 */
export = function register(RED: NodeAPI) {
  function CrmCaseNode(this: Node, config: CrmCaseDef) {
    RED.nodes.createNode(this, config);
    const endpoint = RED.nodes.getNode(config.endpoint) as SoapEndpointNode | null;
    if (endpoint) endpoint.register(this);
    else this.status({ fill: 'red', shape: 'ring', text: 'no CRM SOAP endpoint configured' });

    this.on('input', async (msg: NodeMessage, send: Send, done: Done) => {
      try {
        if (!endpoint) throw permanentError('NODE_CONFIGURATION', 'crm-case: no CRM SOAP endpoint is configured');
        const m = msg as EventMessage<CaseUpdated>;
        // The map node before this one checked it against the case.updated schema.
        const update = m.payload as CaseUpdated | undefined;
        if (!update || update.eventType !== 'case.updated') throw permanentError('INVALID_MESSAGE', 'crm-case: msg.payload must be a case.updated event (map it first)');
        const delivery = m.delivery;
        if (!delivery) throw permanentError('NOT_A_DELIVERY', 'crm-case: msg.delivery is missing (put a delivery node before this one)');
        const journal = requireJournal(RED);
        const xref = hubPort(RED).crossReferences;

        // Whose case is it? The CRM contact the event names, else whom the hub found holding the record.
        let contactId = update.parties?.crmContactId;
        let via: string | undefined;
        for (const party of contactId || !xref ? [] : partiesOf(update)) {
          contactId = await xref!.owner(party.system, party.ids);
          if (contactId) {
            via = `${party.system} ${Object.values(party.ids).join('/')}`;
            break;
          }
        }
        const onCrm = await findOrCreateCase(update, (operation, args) => endpoint.client.call(operation, args), contactId);

        // In a timeline an update may come after a newer one: it is added to the case's history, and
        // the case keeps the newer one's status (AddCaseUpdate's status is the case's status after it).
        const newest = await journal.newestDelivered(delivery.target, delivery.key, { order: delivery.order, seq: delivery.seq, received: delivery.received });
        const newerStatus = newest?.newer ? (newest.payload as Partial<CaseUpdated> | undefined)?.status : undefined;
        if (newerStatus && newerStatus !== update.status) {
          m.payload = { ...update, status: newerStatus, summary: `${update.summary} (received after a later update; the case stays ${newerStatus})` };
        }
        // Noted once per case, on its first update the CRM takes (a retry may find the case this
        // delivery created in an earlier attempt, so "created now" alone cannot say).
        const firstOfCase = !newest;
        const withoutContact = firstOfCase && !contactId;
        m.case = {
          caseRef: onCrm.caseRef,
          created: onCrm.created,
          ...(onCrm.contactId ? { contactId: onCrm.contactId, contactFoundVia: via ?? 'the event' } : {}),
          ...(newerStatus ? { late: true } : {}),
          // For the delivery's record: the console finds these by it.
          note: withoutContact
            ? `case ${onCrm.caseRef} created without a contact: the hub does not know whose ${update.sourceSystem} ${update.sourceRef} is`
            : firstOfCase && onCrm.created
              ? `case ${onCrm.caseRef} created for contact ${onCrm.contactId}`
              : undefined,
        };
        m.bindings = { ...(m.bindings ?? {}), caseRef: onCrm.caseRef };
        const args = await hubPort(RED).mappings.run(config.mapping || 'case-to-crm', m.payload, m.bindings);
        const added = await endpoint.client.call('AddCaseUpdate', args as object);
        m.case = { ...(m.case as object), updateId: added?.updateId };
        m.payload = added;
        this.status(
          withoutContact
            ? { fill: 'yellow', shape: 'dot', text: `${onCrm.caseRef}: created without a contact` }
            : { fill: 'green', shape: 'dot', text: `${onCrm.caseRef}${onCrm.created ? ' created' : ''}${newerStatus ? ' (late update)' : ''}` },
        );
        send(msg);
        done();
      } catch (err) {
        this.status({ fill: 'red', shape: 'ring', text: String((err as Error).message).slice(0, 60) });
        done(err as Error);
      }
    });
    this.on('close', () => endpoint?.deregister(this));
  }
  RED.nodes.registerType('crm-case', CrmCaseNode);
};
