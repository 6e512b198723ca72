import { deliveryStatuses } from '../journal/types';

/**
 * OpenAPI 3.0 description of the console API (hub/api/console-api.ts, and the reconciliation
 * reports of hub/api/reconciliation-api.ts and hub/api/case-reconciliation-api.ts), served at
 * /api/console/openapi.json. Keep the two in step: the API tests check every path here
 * is answered.
 */
const bearer = [{ nodeRedToken: [] }];
const problem = { description: 'refused', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
const standard = {
  '400': { ...problem, description: 'malformed request (the error says what)' },
  '401': { description: 'no token, or the user lacks the permission' },
};
const json = (schema: object, description = 'OK') => ({ description, content: { 'application/json': { schema } } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const query = (name: string, description: string, schema: object = { type: 'string' }) => ({ name, in: 'query', required: false, description, schema });
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
const listParams = [
  query('status', `comma-separated statuses: ${deliveryStatuses.join(', ')}`),
  query('target', 'target system, e.g. planning, housing, revenues, crm, hub'),
  query('key', 'correlation key: a person (CRM contactId), a case'),
  query('messageId', 'deliveries of one message'),
  query('from', 'last change at or after: ISO 8601 time or ms since 1970'),
  query('to', 'last change at or before: ISO 8601 time or ms since 1970'),
  query('q', 'text in the key, error, idempotency key or payload (case-insensitive)'),
  query('limit', 'page size, 0-500 (default 50)', { type: 'integer' }),
  query('offset', 'items to skip (default 0)', { type: 'integer' }),
];

const personParams = [
  query('contactId', 'the CRM contact id'),
  query('surname', 'with dateOfBirth'),
  query('forename', 'optional, with surname'),
  query('dateOfBirth', 'YYYY-MM-DD, with surname'),
  query('id', 'any system\'s id: planning party, tenancy or person ref, account ref, payment id'),
];

export const consoleOpenApi = {
  openapi: '3.0.3',
  info: {
    title: 'council-hub console API',
    version: '1.0.0',
    description:
      'The journal of every message and delivery: find failures, read the payload, the error and the journey, replay (from the node that failed or from the start, with the stored message or an edited copy) and discard with a reason. Log in with POST /auth/token; reading needs console.read, replay and discard need console.write. Every replay and discard is audited with who, when and why.',
  },
  servers: [{ url: '/api/console' }],
  security: bearer,
  paths: {
    '/openapi.json': { get: { summary: 'This document', responses: { '200': json({ type: 'object' }), ...standard } } },
    '/deliveries': {
      get: { summary: 'List deliveries, newest change first', parameters: listParams, responses: { '200': json(ref('DeliveryPage')), ...standard } },
    },
    '/deliveries/{id}': {
      get: {
        summary: 'One delivery with its message and audit',
        parameters: [idParam],
        responses: { '200': json({ type: 'object', properties: { delivery: ref('Delivery'), message: ref('Message'), audit: { type: 'array', items: ref('Audit') } } }), '404': problem, ...standard },
      },
    },
    '/deliveries/{id}/replay': {
      post: {
        summary: 'Replay one delivery',
        description:
          'Runs the delivery again from the node that failed (with the message as it entered that node) or from the start of the journey. With "payload", an edited copy runs: a new message id, and the original is marked resolved. Refused (409) for a superseded, pending or in-flight delivery, or when a newer change for the same target and key exists.',
        parameters: [idParam],
        requestBody: { required: true, content: { 'application/json': { schema: ref('ReplayRequest') } } },
        responses: { '202': json(ref('ReplayResult'), 'replay started'), '404': problem, '409': problem, ...standard },
      },
    },
    '/deliveries/{id}/discard': {
      post: {
        summary: 'Discard a delivery with a reason',
        parameters: [idParam],
        requestBody: { required: true, content: { 'application/json': { schema: ref('Reason') } } },
        responses: { '200': json({ type: 'object', properties: { delivery: ref('Delivery') } }), '404': problem, '409': problem, ...standard },
      },
    },
    '/replay': {
      post: {
        summary: 'Replay every delivery that matches a filter (failed, dead and needs-attention unless a status is given)',
        requestBody: {
          required: true,
          content: { 'application/json': { schema: { allOf: [ref('ReplayRequest'), { type: 'object', properties: { filter: ref('Filter') }, required: ['filter'] }] } } },
        },
        responses: { '202': json(ref('BulkResult'), 'replays started'), ...standard },
      },
    },
    '/failure-groups': {
      get: { summary: 'Failed and dead deliveries grouped by target and error', responses: { '200': json({ type: 'object', properties: { groups: { type: 'array', items: ref('FailureGroup') } } }), ...standard } },
    },
    '/failure-groups/replay': {
      post: {
        summary: 'Replay a whole group of failures with the same target and error',
        requestBody: {
          required: true,
          content: { 'application/json': { schema: { allOf: [ref('ReplayRequest'), { type: 'object', properties: { target: { type: 'string' }, error: { type: 'string' } }, required: ['target', 'error'] }] } } },
        },
        responses: { '202': json(ref('BulkResult'), 'replays started'), ...standard },
      },
    },
    '/messages': {
      get: {
        summary: 'List messages, newest first',
        parameters: [query('source', 'e.g. crm'), query('key', 'correlation key'), query('from', 'received at or after'), query('to', 'received at or before'), query('q', 'text in the message'), query('limit', 'page size', { type: 'integer' }), query('offset', 'items to skip', { type: 'integer' })],
        responses: { '200': json({ type: 'object', properties: { items: { type: 'array', items: ref('Message') }, total: { type: 'integer' } } }), ...standard },
      },
    },
    '/messages/{id}': {
      get: {
        summary: 'One message with its deliveries, its journey through the flow (provenance) and audit',
        parameters: [idParam],
        responses: {
          '200': json({ type: 'object', properties: { message: ref('Message'), deliveries: { type: 'array', items: ref('Delivery') }, journey: { type: 'array', items: ref('Hop') }, audit: { type: 'array', items: ref('Audit') } } }),
          '404': problem,
          ...standard,
        },
      },
    },
    '/counts': { get: { summary: 'Deliveries per status, and per target and status', responses: { '200': json(ref('Counts')), ...standard } } },
    // The data protection officer's API (hub/api/dpo-api.ts): needs console.dpo (roles dpo and developer).
    '/dpo/people': {
      get: {
        summary: 'Find everything held about a person (DPO): ids, systems, statuses, cross-references, open work',
        description: 'Name the person by contactId, by surname and dateOfBirth (YYYY-MM-DD; forename optional), or by id (any system\'s id). Recorded in the access log. Needs console.dpo.',
        parameters: personParams,
        responses: { '200': json({ type: 'object' }), ...standard },
      },
    },
    '/dpo/people/export': {
      get: { summary: 'Everything held about a person, with content, as JSON (subject access request)', parameters: personParams, responses: { '200': json({ type: 'object' }), ...standard } },
    },
    '/dpo/people/erase': {
      post: {
        summary: 'Erase a person: messages, deliveries, cross-references; a tombstone stays, audit is pseudonymised',
        description: 'Body: the person (as for /dpo/people), "reason" (required) and "force" (erase open work too). 409 names the open deliveries when not forced.',
        requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', properties: { contactId: { type: 'string' }, surname: { type: 'string' }, forename: { type: 'string' }, dateOfBirth: { type: 'string' }, id: { type: 'string' }, reason: { type: 'string' }, force: { type: 'boolean' } }, required: ['reason'] } } } },
        responses: { '200': json({ type: 'object' }), '404': problem, '409': problem, ...standard },
      },
    },
    '/dpo/erasures': { get: { summary: 'Erasure tombstones, newest first', responses: { '200': json({ type: 'object' }), ...standard } } },
    '/dpo/access-log': {
      get: {
        summary: 'Who read personal data: newest first',
        parameters: [query('actor', 'a login'), query('subject', 'a contact id or key'), query('from', 'ISO 8601 or ms'), query('to', 'ISO 8601 or ms'), query('limit', '1-5000 (default 200)', { type: 'integer' })],
        responses: { '200': json({ type: 'object' }), ...standard },
      },
    },
    '/dpo/retention': { get: { summary: 'The retention period of each kind of record, in days', responses: { '200': json({ type: 'object' }), ...standard } } },
    '/dpo/retention/run': { post: { summary: 'Run retention now; answers what was removed', responses: { '200': json({ type: 'object' }), ...standard } } },
    '/people': {
      get: {
        summary: 'Find people by name, CRM contact id, UPRN, postcode or any system\'s id',
        parameters: [{ ...query('q', 'what to look for (at most 200 characters); every word of a name must appear'), required: true }],
        responses: { '200': json({ type: 'object', properties: { query: { type: 'string' }, people: { type: 'array', items: { type: 'object', properties: { contactId: { type: 'string' }, name: { type: 'string' }, matches: { type: 'integer' }, lastSeen: { type: 'number' } } } } } }), ...standard },
      },
    },
    '/people/{contactId}': {
      get: {
        summary: 'One person: what each system holds now (live reconciliation), cross-references, cases, every change and case update with each delivery',
        parameters: [{ name: 'contactId', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,40}$' } }],
        responses: { '200': json({ type: 'object' }), '404': { ...problem, description: 'the hub holds nothing about this contact' }, ...standard },
      },
    },
    '/cases/{key}': {
      get: {
        summary: 'One CRM case (key <system>:<ref>): its timeline as the source systems sent it and as it went to the CRM',
        parameters: [{ name: 'key', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { '200': json({ type: 'object' }), '404': problem, ...standard },
      },
    },
    '/inbound-failures': {
      get: {
        summary: 'Everything refused at the door (AMQP dead letters, refused payment files, failures before any delivery), with reason and raw content',
        parameters: [query('all', 'true: also those resubmitted or discarded')],
        responses: { '200': json({ type: 'object', properties: { items: { type: 'array', items: { type: 'object' } } } }), ...standard },
      },
    },
    '/deliveries/{id}/resolve': {
      post: {
        summary: 'Resolve a needs-attention delivery by a choice: a candidate, or a UPRN typed (an address)',
        description: 'An address: the UPRN is set on the address in the payload as received and the edited copy runs from the start. A person lookup: the candidate is remembered as the cross-reference and the delivery runs again from the start. Audited.',
        parameters: [idParam],
        requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['reason'], properties: { reason: { type: 'string' }, candidate: { type: 'integer', minimum: 0 }, uprn: { type: 'string', pattern: '^[0-9]{1,12}$' } } } } } },
        responses: { '202': json({ type: 'object' }, 'the delivery runs again'), '404': problem, '409': { ...problem, description: 'not needs-attention, or the address is not once in the payload as received' }, ...standard },
      },
    },
    '/deliveries/{id}/schema': {
      get: {
        summary: 'The JSON Schema the edit form is built from (refs written out), and which payload it is for',
        parameters: [idParam],
        responses: { '200': json({ type: 'object', properties: { from: { type: 'string', enum: ['failed-node', 'start'] }, name: { type: 'string' }, matches: { type: 'boolean' }, schema: { type: 'object' } } }), '404': { ...problem, description: 'no schema fits: edit the raw JSON' }, ...standard },
      },
    },
    '/schemas/{name}/check': {
      post: {
        summary: 'Check an edited payload against one of the hub\'s schemas before sending it',
        parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
        requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['value'], properties: { value: {} } } } } },
        responses: { '200': json({ type: 'object', properties: { valid: { type: 'boolean' }, problems: { type: 'array', items: { type: 'object' } } } }), '404': problem, ...standard },
      },
    },
    '/response-times': {
      get: {
        summary: 'Response times per target system (this instance, last 6 hours): samples of deliveries, failures, mean latency, error rate; alerts',
        responses: { '200': json({ type: 'object' }), ...standard },
      },
    },
    '/events': {
      get: {
        summary: 'Server-sent events: counts (when they change), progress (of a bulk or group replay)',
        responses: { '200': { description: 'text/event-stream' }, '401': standard['401'] },
      },
    },
    '/reconciliation': {
      get: {
        summary: 'The reconciliation report for a few people (at most 1000, in the query)',
        description:
          'Per person (a CRM contact): whether planning and housing (read back through the cross-references) hold the CRM\'s address, and what the journal knows of revenues (which has no read API). Without contactId: every CRM contact the journal holds a change of address for. For more people than fit in a URL, use the POST.',
        parameters: [query('contactId', 'comma-separated CRM contact ids ([A-Za-z0-9_-], 1-40 characters), at most 1000; given once')],
        responses: { '200': json(ref('ReconciliationReport')), '503': { ...problem, description: 'the journal, the cross-references or CRM_WSDL are not there' }, '500': { ...problem, description: 'the report failed' }, ...standard },
      },
      post: {
        summary: 'The reconciliation report for any number of people (up to 100,000), listed in the body',
        description:
          'The same report as the GET, for the people in the body. {"contactIds": [...]} with at most 100,000 ids (duplicates count once); {} for every CRM contact the journal holds a change of address for; [] for nobody. The body must be JSON (Content-Type: application/json) of at most 5 MiB (5,242,880 bytes: 100,000 ids of the longest form fit). Needs console.read only: it changes nothing. 400 names what is wrong: not JSON, not an object, an unknown field, contactIds not an array, an id not a string or not a contact id (with its index), more than 100,000 ids, an empty body. 413: a body over 5 MiB.',
        requestBody: { required: true, content: { 'application/json': { schema: ref('ReconciliationRequest') } } },
        responses: {
          '200': json(ref('ReconciliationReport')),
          '413': { ...problem, description: 'the body is larger than 5 MiB' },
          '503': { ...problem, description: 'the journal, the cross-references or CRM_WSDL are not there' },
          '500': { ...problem, description: 'the report failed' },
          ...standard,
        },
      },
    },
    '/reconciliation/cases': {
      get: {
        summary: 'The case-update reconciliation for every case the journal knows, or a few (at most 1000, in the query)',
        description:
          "Per case (a planning application, a repair job): the journal's case updates (planning and housing messages, mapped as the hub maps them) against the CRM case (FindCaseByExternalRef, GetCase): updates expected, updates on the case, missing, added more than once (the same sourceEventId twice, or an update the journal does not know), whether the case exists, was created twice, has a contact, and whether its status is its newest event's. Without a query: every case the journal holds an update for. caseRef and externalRef (system:ref, e.g. planning:26/01234/FUL) are comma-separated, each given once, at most 1000 in all; any other parameter is refused.",
        parameters: [
          query('caseRef', 'comma-separated CRM case refs ([A-Za-z0-9_-], 1-40 characters)'),
          query('externalRef', 'comma-separated <system>:<ref>, system planning or housing, ref 1-100 of A-Z a-z 0-9 / . _ -'),
        ],
        responses: { '200': json(ref('CaseReconciliationReport')), '503': { ...problem, description: 'the journal is not running or CRM_WSDL is not set' }, '500': { ...problem, description: 'the report failed' }, ...standard },
      },
      post: {
        summary: 'The case-update reconciliation for any number of cases (up to 100,000), listed in the body',
        description:
          'The same report as the GET, for the cases in the body: {"caseRefs": [...]} (CRM case refs, read with GetCase to learn their external ref), {"externalRefs": [{"system": "planning", "ref": "26/01234/FUL"}]}, or both (they add up; at most 100,000 in all). {} for every case the journal holds an update for; empty lists for none. JSON (Content-Type: application/json) of at most 5 MiB. Needs console.read only: it changes nothing. 400 names what is wrong: not JSON, not an object, an unknown field, a list that is not an array, an item of the wrong type or form (with its index), more than 100,000 cases, an empty body. 413: a body over 5 MiB.',
        requestBody: { required: true, content: { 'application/json': { schema: ref('CaseReconciliationRequest') } } },
        responses: {
          '200': json(ref('CaseReconciliationReport')),
          '413': { ...problem, description: 'the body is larger than 5 MiB' },
          '503': { ...problem, description: 'the journal is not running or CRM_WSDL is not set' },
          '500': { ...problem, description: 'the report failed' },
          ...standard,
        },
      },
    },
    '/audit': {
      get: {
        summary: 'Audit of replays and discards (who, when, why), newest first',
        parameters: [query('deliveryId', 'of one delivery'), query('messageId', 'of one message'), query('limit', '1-1000', { type: 'integer' })],
        responses: { '200': json({ type: 'object', properties: { items: { type: 'array', items: ref('Audit') } } }), ...standard },
      },
    },
  },
  components: {
    securitySchemes: { nodeRedToken: { type: 'http', scheme: 'bearer', description: 'access_token from POST /auth/token' } },
    schemas: {
      Error: { type: 'object', properties: { error: { type: 'string' } }, required: ['error'] },
      Status: { type: 'string', enum: [...deliveryStatuses] },
      Reason: { type: 'object', properties: { reason: { type: 'string', minLength: 1, maxLength: 2000 } }, required: ['reason'] },
      ReplayRequest: {
        type: 'object',
        properties: {
          reason: { type: 'string', minLength: 1 },
          from: { type: 'string', enum: ['failed-node', 'start'], default: 'failed-node' },
          payload: { description: 'an edited msg.payload: the replay runs an edited copy under a new message id' },
        },
        required: ['reason'],
      },
      ReplayResult: { type: 'object', properties: { deliveryId: { type: 'string' }, runs: { type: 'string' }, messageId: { type: 'string' } } },
      BulkResult: {
        type: 'object',
        properties: {
          replayed: { type: 'array', items: ref('ReplayResult') },
          refused: { type: 'array', items: { type: 'object', properties: { deliveryId: { type: 'string' }, reason: { type: 'string' } } } },
        },
      },
      Filter: {
        type: 'object',
        properties: {
          status: { type: 'string', description: 'comma-separated' },
          target: { type: 'string' },
          key: { type: 'string' },
          messageId: { type: 'string' },
          from: { type: 'string' },
          to: { type: 'string' },
          q: { type: 'string' },
        },
      },
      FailureGroup: { type: 'object', properties: { target: { type: 'string' }, error: { type: 'string' }, count: { type: 'integer' }, statuses: { type: 'object' }, newest: { type: 'integer' } } },
      Counts: { type: 'object', properties: { byStatus: { type: 'object', additionalProperties: { type: 'integer' } }, byTarget: { type: 'object', additionalProperties: { type: 'object' } } } },
      DeliveryPage: { type: 'object', properties: { items: { type: 'array', items: ref('Delivery') }, total: { type: 'integer' } } },
      DeliveryError: {
        type: 'object',
        properties: {
          message: { type: 'string' },
          code: { type: 'string' },
          classification: { type: 'string', enum: ['transient', 'permanent'] },
          nodeId: { type: 'string' },
          nodeType: { type: 'string' },
          nodeName: { type: 'string' },
          at: { type: 'integer' },
        },
      },
      Delivery: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          messageId: { type: 'string' },
          target: { type: 'string' },
          key: { type: 'string' },
          status: ref('Status'),
          idempotencyKey: { type: 'string' },
          attempts: { type: 'integer' },
          lastError: ref('DeliveryError'),
          nextAttemptAt: { type: 'integer', description: 'ms since 1970, while failed (retrying)' },
          reason: { type: 'string', description: 'why skipped, needs-attention or discarded' },
          candidates: { description: 'needs-attention: the candidates a person chooses from' },
          supersededBy: { type: 'string' },
          resume: { type: 'object', description: 'where a retry runs: node id, send/receive, and the stored message' },
          createdAt: { type: 'integer' },
          updatedAt: { type: 'integer' },
          firstAttemptAt: { type: 'integer' },
          settledAt: { type: 'integer' },
        },
      },
      Message: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          source: { type: 'string' },
          sourceMessageId: { type: 'string' },
          key: { type: 'string' },
          payload: {},
          receivedAt: { type: 'integer' },
          status: { type: 'string', enum: ['received', 'routed'] },
          editedFrom: { type: 'string' },
          resolvedBy: { type: 'object', properties: { messageId: { type: 'string' }, actor: { type: 'string' }, at: { type: 'integer' }, reason: { type: 'string' } } },
        },
      },
      ReconciliationRequest: {
        type: 'object',
        properties: {
          contactIds: {
            type: 'array',
            maxItems: 100000,
            items: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,40}$' },
            description: 'the people (CRM contact ids); absent: every contact the journal holds a change of address for',
          },
        },
        additionalProperties: false,
      },
      ReconciliationFinding: {
        type: 'object',
        properties: {
          system: { type: 'string', enum: ['planning', 'housing', 'revenues'] },
          verdict: { type: 'string', enum: ['agrees', 'differs', 'not-known', 'in-progress', 'unreadable'] },
          ids: { type: 'object', additionalProperties: { type: 'string' }, description: "the system's own ids for the person (the cross-reference)" },
          address: { type: 'string', description: 'the address the system holds (revenues: of the last change it accepted)' },
          comparedBy: { type: 'string', enum: ['uprn', 'text'] },
          detail: { type: 'string' },
          delivery: { type: 'object', properties: { id: { type: 'string' }, status: ref('Status'), reason: { type: 'string' }, error: { type: 'string' } } },
        },
        required: ['system', 'verdict', 'detail'],
      },
      ReconciliationReport: {
        type: 'object',
        properties: {
          generatedAt: { type: 'string', format: 'date-time' },
          people: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                contactId: { type: 'string' },
                name: { type: 'string' },
                crmAddress: { type: 'string' },
                error: { type: 'string', description: 'the CRM could not be read (e.g. ContactNotFound): nothing else was compared' },
                systems: { type: 'array', items: ref('ReconciliationFinding') },
              },
              required: ['contactId', 'systems'],
            },
          },
          summary: {
            type: 'object',
            properties: {
              people: { type: 'integer' },
              peopleNotAgreeing: { type: 'integer' },
              bySystem: { type: 'object', additionalProperties: { type: 'object', additionalProperties: { type: 'integer' } } },
              allAgree: { type: 'boolean' },
            },
          },
          notes: { type: 'array', items: { type: 'string' } },
        },
      },
      CaseReconciliationRequest: {
        type: 'object',
        properties: {
          caseRefs: { type: 'array', maxItems: 100000, items: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,40}$' }, description: 'CRM case refs' },
          externalRefs: {
            type: 'array',
            maxItems: 100000,
            items: {
              type: 'object',
              properties: { system: { type: 'string', enum: ['planning', 'housing'] }, ref: { type: 'string', pattern: '^[A-Za-z0-9/._-]{1,100}$' } },
              required: ['system', 'ref'],
              additionalProperties: false,
            },
            description: 'cases by their external system and ref (planning: applicationRef; housing: jobRef)',
          },
        },
        additionalProperties: false,
        description: 'caseRefs and externalRefs add up (at most 100,000 in all); neither: every case the journal holds an update for',
      },
      CaseUpdate: {
        type: 'object',
        properties: {
          updateId: { type: 'string' },
          sourceEventId: { type: 'string' },
          status: { type: 'string' },
          occurredAt: { type: 'string' },
          summary: { type: 'string' },
          receivedAt: { type: 'string' },
          caseRef: { type: 'string' },
        },
      },
      CaseReconciliation: {
        type: 'object',
        properties: {
          system: { type: 'string', enum: ['planning', 'housing'] },
          ref: { type: 'string' },
          caseRef: { type: 'string', description: 'the CRM case; absent when the CRM has none' },
          caseExists: { type: 'boolean' },
          createdTwice: { type: 'boolean' },
          otherCaseRefs: { type: 'array', items: { type: 'string' } },
          contactId: { type: 'string' },
          withoutContact: { type: 'boolean', description: 'the CRM case has no contact: the hub did not know who the applicant or tenant is (not an error)' },
          expected: {
            type: 'array',
            description: "the journal's events, oldest first",
            items: {
              type: 'object',
              properties: {
                sourceEventId: { type: 'string' },
                status: { type: 'string' },
                occurredAt: { type: 'string' },
                sequence: { type: 'integer' },
                messageIds: { type: 'array', items: { type: 'string' } },
                deliveries: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, target: { type: 'string' }, status: ref('Status'), reason: { type: 'string' }, error: { type: 'string' } } } },
                journal: { type: 'string', enum: ['delivered', 'in-progress', 'dead', 'needs-attention', 'skipped', 'discarded', 'none'] },
                onCase: { type: 'boolean' },
              },
            },
          },
          updates: { type: 'array', items: ref('CaseUpdate') },
          missing: { type: 'array', items: { type: 'string' }, description: 'sourceEventIds not on the case (discarded events left out)' },
          duplicated: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                kind: { type: 'string', enum: ['same-source-event-id', 'unknown-to-journal'] },
                sourceEventId: { type: 'string' },
                updates: { type: 'array', items: ref('CaseUpdate') },
                looksLike: { type: 'string', description: "the journal's event with the same status and occurredAt" },
              },
            },
          },
          mismatched: { type: 'array', items: { type: 'object' } },
          unmapped: { type: 'array', items: { type: 'string' }, description: 'message ids of this case the mapping refused' },
          status: { type: 'object', properties: { onCase: { type: 'string' }, expected: { type: 'string' }, newestEvent: { type: 'string' }, right: { type: 'boolean' } } },
          verdict: { type: 'string', enum: ['agrees', 'differs', 'in-progress', 'unreadable'] },
          problems: { type: 'array', items: { type: 'string' } },
          error: { type: 'string' },
        },
        required: ['system', 'ref', 'caseExists', 'verdict', 'expected', 'updates', 'missing', 'duplicated'],
      },
      CaseReconciliationReport: {
        type: 'object',
        properties: {
          generatedAt: { type: 'string', format: 'date-time' },
          cases: { type: 'array', items: ref('CaseReconciliation') },
          unmapped: {
            type: 'array',
            items: {
              type: 'object',
              properties: { messageId: { type: 'string' }, source: { type: 'string' }, system: { type: 'string' }, ref: { type: 'string' }, receivedAt: { type: 'integer' }, error: { type: 'string' }, deliveries: { type: 'array', items: ref('Status') } },
            },
          },
          summary: {
            type: 'object',
            properties: {
              cases: { type: 'integer' },
              events: { type: 'integer' },
              discarded: { type: 'integer' },
              updatesOnCases: { type: 'integer' },
              missing: { type: 'integer' },
              duplicated: { type: 'integer' },
              mismatched: { type: 'integer' },
              wrongStatus: { type: 'integer' },
              notCreated: { type: 'integer' },
              createdTwice: { type: 'integer' },
              withoutContact: { type: 'object', properties: { count: { type: 'integer' }, cases: { type: 'array', items: { type: 'object' } } } },
              unreadable: { type: 'integer' },
              deliveries: { type: 'object', description: 'dead and needs-attention deliveries of these messages: to the CRM, and beforeDelivery (the pseudo-target hub)' },
              unmappedMessages: { type: 'integer' },
              byVerdict: { type: 'object', additionalProperties: { type: 'integer' } },
              casesNotAgreeing: { type: 'integer' },
              allAgree: { type: 'boolean' },
            },
          },
          notes: { type: 'array', items: { type: 'string' } },
        },
      },
      Hop: {
        type: 'object',
        properties: {
          nodeId: { type: 'string' },
          nodeType: { type: 'string' },
          nodeName: { type: 'string' },
          flowId: { type: 'string' },
          deliveryId: { type: 'string' },
          startedAt: { type: 'integer' },
          finishedAt: { type: 'integer' },
          durationMs: { type: 'integer' },
          error: { type: 'string' },
        },
      },
      Audit: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          at: { type: 'integer' },
          actor: { type: 'string' },
          action: { type: 'string', enum: ['replay', 'replay-edited', 'discard'] },
          reason: { type: 'string' },
          deliveryId: { type: 'string' },
          messageId: { type: 'string' },
          detail: { type: 'object' },
        },
      },
    },
  },
} as const;
