import assert from 'assert';
import fs from 'fs';
import path from 'path';
import { HubError, classifyError, errorCode, isClassified, permanentError, transientError } from '../../adapters/errors';
import { AMQP_TRANSIENT, AmqpConnection, AmqpError, describeAmqpError, resolveTopology, type AmqpConnectionStatus, type AmqpErrorCode } from '../../adapters/amqp';
import { unroutable } from '../../adapters/amqp/confirm';
import { SFTP_TRANSIENT, SftpConnection, SftpError, checkFileName, connectionError, normaliseFingerprint, type SftpErrorCode } from '../../adapters/sftp';
import { hostKeyRefusal } from '../../adapters/sftp/host-key';
import { PendingReplies, SoapCallError, SoapFault, SoapPathRegistry, XmlRefusedError, checkSoapXml, createSoapClient, faultFromError, type HostedSoapService, type SoapClient } from '../../adapters/soap';
import { AddressLinesError, MappingError, MappingLibrary, addressLines, toDate } from '../../adapters/mapping';
import { InvalidPostcodeError, normalisePostcode } from '../../adapters/address/postcode';
import { LookupInputError, findPerson, type LookupSystem } from '../../adapters/people/lookup';
import type { CrossReferenceStore } from '../../adapters/people/cross-references';
import { Gazetteer, GazetteerLoadError, readDtf, readExtract } from '../../adapters/gazetteer';
import { RevenuesFileError, buildRequestFile, parseAckFile, requestFileForAck, type RevenuesRequestRow } from '../../adapters/revenues/files';
import { RequestBatch } from '../../adapters/revenues/batch';
import { SharingPolicy, SharingRulesError, parseSharingRules } from '../../adapters/sharing';
import { classifyError as journalClassifyError, describeError } from '../../hub/journal/retry';
import { SAMPLE_ROWS, tempFolder, writeExtract } from '../gazetteer/extract-fixture';
import { blpu, volume, writeDtf } from '../gazetteer/dtf-fixture';
import { startPlanningPeer, type PlanningPeer } from '../protocols/support-soap-planning';
import { freePort } from '../support/ports';

/**
 * The hub's one error contract (adapters/errors.ts), checked on the errors the adapters
 * really raise: each is made the way a flow meets it (the adapter function that raises it,
 * a real closed port, a real broker, a real SOAP peer) and must say its code and whether it
 * is transient. classifyError must then take it at its word whatever the target's default.
 */

type ErrorType = abstract new (...args: any[]) => Error;

interface Expected {
  type: ErrorType;
  code: string;
  transient: boolean;
  message?: RegExp;
}

function assertContract(err: unknown, expected: Expected): void {
  assert.ok(err instanceof expected.type, `expected a ${expected.type.name}, got ${String(err)}`);
  assert.ok(err instanceof HubError, `${expected.type.name} is a HubError`);
  assert.strictEqual((err as HubError).code, expected.code, `code of: ${(err as Error).message}`);
  assert.strictEqual((err as HubError).transient, expected.transient, `transient of ${expected.code}: ${(err as Error).message}`);
  // The journal takes it at its word even when the target's default says the opposite.
  const opposite = expected.transient ? 'permanent' : 'transient';
  assert.strictEqual(classifyError(err, opposite), expected.transient ? 'transient' : 'permanent');
  const recorded = describeError(err, opposite, { nodeId: 'n1' }, 7);
  assert.strictEqual(recorded.code, expected.code, 'the journal records the code');
  assert.strictEqual(recorded.classification, expected.transient ? 'transient' : 'permanent');
  if (expected.message) assert.match((err as Error).message, expected.message);
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return assert.fail('expected an error');
}

async function rejected(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  return assert.fail('expected a rejection');
}

/** The next status of a connection in one of `states`. */
function statusIn(connection: AmqpConnection, states: string[], timeoutMs = 10000): Promise<AmqpConnectionStatus> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${states.join('/')} status within ${timeoutMs} ms`)), timeoutMs);
    const listener = (status: AmqpConnectionStatus) => {
      if (!states.includes(status.state)) return;
      clearTimeout(timer);
      connection.off('status', listener);
      resolve(status);
    };
    connection.on('status', listener);
  });
}

describe('the error contract (adapters/errors.ts)', () => {
  describe('classifyError and errorCode', () => {
    it('takes an error that says transient or permanent at its word, whatever the default', () => {
      assert.strictEqual(classifyError(transientError('PEER_DOWN', 'x'), 'permanent'), 'transient');
      assert.strictEqual(classifyError(permanentError('BAD_INPUT', 'x'), 'transient'), 'permanent');
      assert.strictEqual(classifyError(Object.assign(new Error('x'), { transient: true }), 'permanent'), 'transient');
      assert.strictEqual(classifyError(Object.assign(new Error('x'), { transient: false }), 'transient'), 'permanent');
    });

    it('falls back to the given default for a third-party error that says nothing', () => {
      const thirdParty = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
      assert.strictEqual(classifyError(thirdParty, 'transient'), 'transient');
      assert.strictEqual(classifyError(thirdParty, 'permanent'), 'permanent');
      // not a boolean: says nothing
      assert.strictEqual(classifyError(Object.assign(new Error('x'), { transient: 'yes' }), 'permanent'), 'permanent');
      assert.strictEqual(classifyError('a thrown string', 'permanent'), 'permanent');
      assert.strictEqual(classifyError(null, 'transient'), 'transient');
      assert.strictEqual(classifyError(undefined, 'permanent'), 'permanent');
      assert.strictEqual(isClassified(thirdParty), false);
      assert.strictEqual(isClassified(permanentError('X', 'x')), true);
    });

    it('is the journal\'s classifyError too', () => {
      assert.strictEqual(journalClassifyError, classifyError);
    });

    it('reads the code of a hub error and of a Node error; the journal records it', () => {
      assert.strictEqual(errorCode(permanentError('INVALID_POSTCODE', 'x')), 'INVALID_POSTCODE');
      assert.strictEqual(errorCode(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })), 'ECONNREFUSED');
      assert.strictEqual(errorCode(Object.assign(new Error('x'), { code: 404 })), '404');
      assert.strictEqual(errorCode(new Error('x')), undefined);
      assert.strictEqual(errorCode(null), undefined);
      const recorded = describeError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'permanent', { nodeId: 'n1', nodeType: 'function', nodeName: '' }, 42);
      assert.deepStrictEqual(recorded, { message: 'socket hang up', code: 'ECONNRESET', classification: 'permanent', nodeId: 'n1', nodeType: 'function', at: 42 });
      assert.deepStrictEqual(describeError(new Error('no code'), 'transient', {}, 1), { message: 'no code', classification: 'transient', at: 1 });
    });
  });

  describe('AMQP (adapters/amqp)', () => {
    const broker = '127.0.0.1:5672';

    it('classifies every code, as docs/journal.md lists them', () => {
      const expected: Record<AmqpErrorCode, boolean> = {
        CONNECTION_REFUSED: true,
        HOST_NOT_FOUND: true,
        TIMEOUT: true,
        CONNECTION_LOST: true,
        CHANNEL_CLOSED: true,
        NACKED: true,
        CLOSED: true,
        UNKNOWN: true,
        ACCESS_REFUSED: false,
        VHOST_NOT_ALLOWED: false,
        NOT_FOUND: false,
        PRECONDITION_FAILED: false,
        UNROUTABLE: false,
        INVALID_MESSAGE: false,
        INVALID_URL: false,
        CONFIGURATION: false,
      };
      assert.deepStrictEqual({ ...AMQP_TRANSIENT }, expected);
      for (const [code, transient] of Object.entries(expected)) {
        assertContract(new AmqpError(code as AmqpErrorCode, `test ${code}`), { type: AmqpError, code, transient });
      }
    });

    it('makes a refused socket (ECONNREFUSED) transient', () => {
      const socket = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5999'), { code: 'ECONNREFUSED', errno: -111, syscall: 'connect' });
      const err = describeAmqpError(socket, '127.0.0.1:5999');
      assertContract(err, { type: AmqpError, code: 'CONNECTION_REFUSED', transient: true, message: /refused the connection/ });
      assert.strictEqual(err.cause, socket);
    });

    it('makes a DNS failure transient', () => {
      const dns = Object.assign(new Error('getaddrinfo EAI_AGAIN rabbit.council.internal'), { code: 'EAI_AGAIN' });
      assertContract(describeAmqpError(dns, 'rabbit.council.internal:5672'), { type: AmqpError, code: 'HOST_NOT_FOUND', transient: true });
    });

    it('makes a lost connection (heartbeat, forced close) and a closed channel transient', () => {
      assertContract(describeAmqpError(new Error('Heartbeat timeout'), broker), { type: AmqpError, code: 'CONNECTION_LOST', transient: true });
      const forced = new Error('Connection closed: 320 (CONNECTION-FORCED) with message "CONNECTION_FORCED - broker forced connection closure with reason \'shutdown\'"');
      assertContract(describeAmqpError(forced, broker), { type: AmqpError, code: 'CONNECTION_LOST', transient: true, message: /broker forced connection closure/ });
      assertContract(describeAmqpError(new Error('Channel closed'), broker), { type: AmqpError, code: 'CHANNEL_CLOSED', transient: true });
    });

    it('makes broker refusals in amqplib\'s raw text permanent', () => {
      const missing = new Error('Operation failed: QueueDeclare; 404 (NOT-FOUND) with message "NOT_FOUND - no queue \'crm.missing\' in vhost \'/\'"');
      assertContract(describeAmqpError(missing, broker), { type: AmqpError, code: 'NOT_FOUND', transient: false, message: /no queue 'crm\.missing' in vhost/ });
      const login = new Error('Handshake terminated by server: 403 (ACCESS-REFUSED) with message "ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN. For details see the broker logfile."');
      assertContract(describeAmqpError(login, broker), { type: AmqpError, code: 'ACCESS_REFUSED', transient: false });
      const inequivalent = new Error('Operation failed: QueueDeclare; 406 (PRECONDITION-FAILED) with message "PRECONDITION_FAILED - inequivalent arg \'durable\' for queue \'crm.events\' in vhost \'/\': received \'false\' but current is \'true\'"');
      assertContract(describeAmqpError(inequivalent, broker), { type: AmqpError, code: 'PRECONDITION_FAILED', transient: false, message: /inequivalent arg 'durable'/ });
    });

    it('makes an unexplained failure transient (retried, bounded), as an unclassified error would be', () => {
      assertContract(describeAmqpError(new Error('something nobody expected'), broker), { type: AmqpError, code: 'UNKNOWN', transient: true, message: /something nobody expected/ });
    });

    it('makes an unroutable message and a missing queue name permanent', () => {
      assertContract(unroutable('crm.events', 'contact.nowhere', '312 NO_ROUTE'), { type: AmqpError, code: 'UNROUTABLE', transient: false, message: /routing key "contact\.nowhere"/ });
      assertContract(thrown(() => resolveTopology({ queue: '  ' })), { type: AmqpError, code: 'CONFIGURATION', transient: false, message: /^a queue name is required$/ });
    });

    it('a real closed port: the connection reports CONNECTION_REFUSED, transient', async () => {
      const port = await freePort();
      const connection = new AmqpConnection({ url: `amqp://127.0.0.1:${port}`, connectionName: 'error-contract-refused', connectTimeoutMs: 2000, reconnect: { initialDelayMs: 60000, maxDelayMs: 60000 } });
      try {
        const status = statusIn(connection, ['error']);
        connection.start();
        assertContract((await status).error, { type: AmqpError, code: 'CONNECTION_REFUSED', transient: true });
      } finally {
        await connection.close();
      }
    });

    it('the real broker refusing a password: ACCESS_REFUSED, permanent', async () => {
      const connection = new AmqpConnection({ url: 'amqp://127.0.0.1:5672', username: 'guest', password: 'not-the-password', connectionName: 'error-contract-access', connectTimeoutMs: 5000, reconnect: { initialDelayMs: 60000, maxDelayMs: 60000 } });
      try {
        const status = statusIn(connection, ['error']);
        connection.start();
        assertContract((await status).error, { type: AmqpError, code: 'ACCESS_REFUSED', transient: false });
      } finally {
        await connection.close();
      }
    });
  });

  describe('SFTP (adapters/sftp)', () => {
    const where = 'hub@files.council.internal:22';

    it('classifies every code, as docs/journal.md lists them', () => {
      const expected: Record<SftpErrorCode, boolean> = {
        CONNECTION_REFUSED: true,
        CONNECTION_FAILED: true,
        CONNECTION_LOST: true,
        TRANSFER_FAILED: true,
        FILE_DEFERRED: true,
        HOST_KEY_UNKNOWN: false,
        HOST_KEY_MISMATCH: false,
        AUTHENTICATION_FAILED: false,
        CONFIGURATION: false,
        INVALID_REQUEST: false,
        NOT_FOUND: false,
        ALREADY_EXISTS: false,
      };
      assert.deepStrictEqual({ ...SFTP_TRANSIENT }, expected);
      for (const [code, transient] of Object.entries(expected)) {
        assertContract(new SftpError(code as SftpErrorCode, `test ${code}`), { type: SftpError, code, transient });
      }
    });

    it('connectionError: ECONNREFUSED is transient, a refused login permanent, a failed handshake transient', () => {
      const refused = Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:22'), { code: 'ECONNREFUSED', level: 'client-socket' });
      assertContract(connectionError(where, refused), { type: SftpError, code: 'CONNECTION_REFUSED', transient: true, message: /refused the connection/ });
      const login = Object.assign(new Error('All configured authentication methods failed'), { level: 'client-authentication' });
      assertContract(connectionError(where, login), { type: SftpError, code: 'AUTHENTICATION_FAILED', transient: false, message: /login to hub@files/ });
      assertContract(connectionError(where, new Error('Timed out while waiting for handshake')), { type: SftpError, code: 'CONNECTION_FAILED', transient: true });
    });

    it('a host key that is not the pinned one, a bad fingerprint and a bad file name are permanent', () => {
      const pinned = 'SHA256:' + 'A'.repeat(43);
      const presented = 'SHA256:' + 'B'.repeat(43);
      assertContract(hostKeyRefusal('files:22', presented, pinned), { type: SftpError, code: 'HOST_KEY_MISMATCH', transient: false });
      assertContract(hostKeyRefusal('files:22', presented, undefined), { type: SftpError, code: 'HOST_KEY_UNKNOWN', transient: false });
      assertContract(thrown(() => normaliseFingerprint('MD5:12:34')), { type: SftpError, code: 'CONFIGURATION', transient: false, message: /not a SHA256/ });
      assertContract(thrown(() => checkFileName('../etc/passwd')), { type: SftpError, code: 'INVALID_REQUEST', transient: false });
    });

    it('a real closed port: CONNECTION_REFUSED, transient', async () => {
      const port = await freePort();
      const connection = new SftpConnection({ host: '127.0.0.1', port, username: 'hub', password: 'x', hostKeyFingerprint: 'SHA256:' + 'A'.repeat(43), readyTimeoutMs: 3000 });
      try {
        assertContract(await rejected(connection.client()), { type: SftpError, code: 'CONNECTION_REFUSED', transient: true, message: new RegExp(String(port)) });
      } finally {
        await connection.close();
      }
    });
  });

  describe('SOAP (adapters/soap)', () => {
    let peer: PlanningPeer;
    const clients: SoapClient[] = [];
    const client = (options: Partial<Parameters<typeof createSoapClient>[0]> = {}) => {
      const c = createSoapClient({ wsdl: peer.wsdlUrl, endpoint: peer.url, ...options });
      clients.push(c);
      return c;
    };
    before(async () => {
      peer = await startPlanningPeer();
    });
    after(async () => {
      for (const c of clients.splice(0)) await c.close();
      await peer?.stop();
    });
    const session = { databaseId: 'UNIFORM_TEST', userName: 'hub', password: 'planning-secret' };

    it('a business fault is permanent and its code is the fault name; ServiceUnavailable is transient', async () => {
      const planning = client({ session });
      const notFound = await rejected(planning.call('GetParty', { partyId: 'P404' }));
      assertContract(notFound, { type: SoapCallError, code: 'PartyNotFound', transient: false });
      assert.strictEqual((notFound as SoapCallError).faultName, 'PartyNotFound', 'the existing fields stay');
      assert.strictEqual((notFound as SoapCallError).kind, 'fault');
      // what a Catch node shows as msg.error.cause carries the code too
      assert.strictEqual(((notFound as SoapCallError).cause as any).code, 'PartyNotFound');
      peer.failNext(1);
      assertContract(await rejected(planning.call('GetParty', { partyId: 'P1001' })), { type: SoapCallError, code: 'ServiceUnavailable', transient: true });
    });

    it('an operation the WSDL does not offer is permanent (SOAP_BAD_REQUEST)', async () => {
      assertContract(await rejected(client().call('DeleteEverything', {})), { type: SoapCallError, code: 'SOAP_BAD_REQUEST', transient: false });
    });

    it('a WSDL on a real closed port is transient, its code the socket\'s', async () => {
      const port = await freePort();
      const err = await rejected(client({ wsdl: `http://127.0.0.1:${port}/PlanningService?wsdl` }).call('GetParty', { partyId: 'P1001' }));
      assertContract(err, { type: SoapCallError, code: 'ECONNREFUSED', transient: true });
      assert.strictEqual((err as SoapCallError).kind, 'wsdl');
    });

    it('a call on a closed client (its node redeployed) is transient', async () => {
      const planning = client();
      await planning.ready();
      await planning.close();
      assertContract(await rejected(planning.call('GetParty', { partyId: 'P1001' })), { type: SoapCallError, code: 'SOAP_CLIENT_CLOSED', transient: true, message: /closed/ });
    });

    it('refused XML is permanent, with a code per refusal', async () => {
      const withEntity = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>';
      assertContract(await rejected(checkSoapXml(withEntity)), { type: XmlRefusedError, code: 'XML_DOCTYPE', transient: false });
      const refused = (await rejected(checkSoapXml('<soap:Envelope><soap:Body></soap:Envelope>'))) as XmlRefusedError;
      assertContract(refused, { type: XmlRefusedError, code: 'XML_MALFORMED', transient: false, message: /not well-formed/ });
      assert.strictEqual(refused.refusal, 'malformed', 'the existing field stays');
      assertContract(await rejected(checkSoapXml('<html><body/></html>')), { type: XmlRefusedError, code: 'XML_NOT_ENVELOPE', transient: false });
      assertContract(await rejected(checkSoapXml('<Envelope><__proto__/></Envelope>')), { type: XmlRefusedError, code: 'XML_HOSTILE_NAME', transient: false });
    });

    it('a hosted request nobody answers in time gets a transient ServiceUnavailable fault', async () => {
      const pending = new PendingReplies();
      const fault = await rejected(pending.wait('msg-1:c-1', 'soap-in-1', 20));
      assertContract(fault, { type: SoapFault, code: 'ServiceUnavailable', transient: true, message: /^ServiceUnavailable: no reply/ });
      assert.strictEqual((fault as SoapFault).side, 'Server');
    });

    it('a fault for a permanent error is ProcessingFailed and permanent; InvalidRequest is permanent', () => {
      const fault = faultFromError(new InvalidPostcodeError('NOPE'));
      assertContract(fault, { type: SoapFault, code: 'ProcessingFailed', transient: false, message: /"NOPE" is not a UK postcode/ });
      assertContract(faultFromError(transientError('PEER_DOWN', 'planning is down')), { type: SoapFault, code: 'ServiceUnavailable', transient: true });
      assertContract(new SoapFault('InvalidRequest', 'NotifyContactEvent.raisedAt is not valid'), { type: SoapFault, code: 'InvalidRequest', transient: false });
    });

    it('a second wait under one key and a second service on one path are permanent', async () => {
      const pending = new PendingReplies();
      const first = pending.wait('msg-2:c-2', 'soap-in-1', 5000);
      first.catch(() => undefined);
      assertContract(await rejected(pending.wait('msg-2:c-2', 'soap-in-1', 5000)), { type: HubError, code: 'SOAP_REPLY_KEY_IN_USE', transient: false });
      pending.failAll('soap-in-1', new SoapFault('ServiceUnavailable', 'closing', 'Server'));
      const registry = new SoapPathRegistry();
      const service = (name: string) => ({ path: '/soap/contact-events', serviceName: name }) as unknown as HostedSoapService;
      registry.register(service('ContactEventService'));
      assertContract(thrown(() => registry.register(service('Other'))), { type: HubError, code: 'SOAP_PATH_IN_USE', transient: false, message: /already hosted \(ContactEventService\)/ });
    });
  });

  describe('mappings (adapters/mapping)', () => {
    let dir: string;
    let library: MappingLibrary;
    before(() => {
      dir = tempFolder('error-contract-mappings');
      fs.mkdirSync(path.join(dir, 'config'));
      const header = '/* @target crm.add-case-update\n   test */\n';
      fs.writeFileSync(path.join(dir, 'broken.jsonata'), `${header}{ "caseRef": $caseRef,\n}`);
      fs.writeFileSync(path.join(dir, 'wrong-shape.jsonata'), `${header}{ "caseRef": 12 }`);
      fs.writeFileSync(path.join(dir, 'postcode.jsonata'), `${header}{ "caseRef": $normalisePostcode(postcode) }`);
      fs.writeFileSync(path.join(dir, 'lines.jsonata'), `${header}{ "caseRef": $join($addressLines(address, 1, 10), "/") }`);
      fs.writeFileSync(path.join(dir, 'refuses.jsonata'), `${header}$error("no case reference")`);
      library = new MappingLibrary({ mappingsDir: dir });
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('a mapping that does not compile is permanent, its code JSONata\'s', async () => {
      const err = (await rejected(library.run('broken', {}))) as MappingError;
      assertContract(err, { type: MappingError, code: 'S0211', transient: false, message: /\[S0211\]$/ });
      assert.strictEqual(err.stage, 'compile');
    });

    it('a missing mapping and an output that breaks the schema are permanent', async () => {
      assertContract(await rejected(library.run('nowhere', {})), { type: MappingError, code: 'MAPPING_NOT_FOUND', transient: false, message: /no such mapping/ });
      assertContract(await rejected(library.run('../etc/passwd', {})), { type: MappingError, code: 'MAPPING_INVALID_NAME', transient: false });
      const shape = (await rejected(library.run('wrong-shape', {}))) as MappingError;
      assertContract(shape, { type: MappingError, code: 'MAPPING_SCHEMA_MISMATCH', transient: false, message: /does not match schema crm\.add-case-update/ });
      assert.strictEqual(shape.stage, 'validate');
    });

    it('a hub error thrown inside a mapping keeps its code; the message is as before', async () => {
      const postcode = (await rejected(library.run('postcode', { postcode: 'NOT A POSTCODE' }))) as MappingError;
      assertContract(postcode, { type: MappingError, code: 'INVALID_POSTCODE', transient: false, message: /^mapping "postcode": "NOT A POSTCODE" is not a UK postcode \(at line 3, column \d+, position \d+, token "normalisePostcode"\)$/ });
      assert.strictEqual(postcode.stage, 'evaluate');
      assert.ok(postcode.cause instanceof InvalidPostcodeError);
      const lines = (await rejected(library.run('lines', { address: { paon: '12', streetDescription: 'HIGH STREET', postTown: 'CARDIFF' } }))) as MappingError;
      assertContract(lines, { type: MappingError, code: 'ADDRESS_TOO_LONG', transient: false, message: /only 1 are available/ });
      const refused = (await rejected(library.run('refuses', {}))) as MappingError;
      assertContract(refused, { type: MappingError, code: 'D3137', transient: false, message: /no case reference/ });
    });

    it('addressLines and toDate refuse permanently', () => {
      const long = { paon: 'THE OLD RECTORY', streetDescription: 'ST MARY THE VIRGIN CHURCHYARD', locality: 'LLANDOUGH', postTown: 'PENARTH' };
      assertContract(thrown(() => addressLines(long, 2, 20)), { type: AddressLinesError, code: 'ADDRESS_TOO_LONG', transient: false, message: /but only 2 are available/ });
      assertContract(thrown(() => addressLines(undefined as any, 5, 35)), { type: AddressLinesError, code: 'ADDRESS_MISSING', transient: false, message: /^addressLines: no address given$/ });
      assertContract(thrown(() => toDate('next Tuesday')), { type: HubError, code: 'INVALID_DATE', transient: false, message: /^"next Tuesday" is not a date$/ });
    });
  });

  describe('addresses, people, gazetteer, revenues, sharing', () => {
    it('a bad postcode is permanent', () => {
      const err = thrown(() => normalisePostcode('SW1A 1A')) as InvalidPostcodeError;
      assertContract(err, { type: InvalidPostcodeError, code: 'INVALID_POSTCODE', transient: false, message: /^"SW1A 1A" is not a UK postcode$/ });
      assert.strictEqual(err.postcode, 'SW1A 1A');
      assertContract(thrown(() => normalisePostcode(12)), { type: InvalidPostcodeError, code: 'INVALID_POSTCODE', transient: false });
    });

    it('a lookup without a surname, a previous UPRN or a contact id is permanent, and calls nobody', async () => {
      const calls: string[] = [];
      const xref: CrossReferenceStore = { find: async () => undefined, remember: async () => undefined, all: async () => [], owner: async () => undefined, foundAt: async () => [], forget: async () => 0 };
      const call = async (operation: string) => {
        calls.push(operation);
        return {};
      };
      const deps = { call, xref };
      const person = { contactId: 'C-1', surname: 'Jones', previousUprn: '100023336956' };
      assertContract(await rejected(findPerson('planning', { ...person, surname: '' }, deps)), { type: LookupInputError, code: 'LOOKUP_INCOMPLETE_PERSON', transient: false, message: /without a surname and the previous address's UPRN/ });
      assertContract(await rejected(findPerson('housing', { ...person, previousUprn: '' }, deps)), { type: LookupInputError, code: 'LOOKUP_INCOMPLETE_PERSON', transient: false });
      assertContract(await rejected(findPerson('planning', { ...person, contactId: '' }, deps)), { type: LookupInputError, code: 'LOOKUP_NO_CONTACT_ID', transient: false });
      assertContract(await rejected(findPerson('revenues' as LookupSystem, person, deps)), { type: LookupInputError, code: 'LOOKUP_UNKNOWN_SYSTEM', transient: false });
      assert.deepStrictEqual(calls, []);
    });

    it('a gazetteer extract that does not load is transient (the gazetteer loads the next good one by itself)', async () => {
      const dir = tempFolder('error-contract-gazetteer');
      try {
        const missing = (await rejected(readExtract(path.join(dir, 'nowhere.csv')))) as GazetteerLoadError;
        assertContract(missing, { type: GazetteerLoadError, code: 'GAZETTEER_UNREADABLE', transient: true, message: /cannot read the file \(ENOENT\)/ });
        const file = writeExtract(path.join(dir, 'llpg.csv'), SAMPLE_ROWS, ['100099999999,20000001,,7,NEW ROAD,,CARDIFF,CARDIFF,NOT A POSTCODE,1,2,1']);
        const malformed = (await rejected(readExtract(file))) as GazetteerLoadError;
        assertContract(malformed, { type: GazetteerLoadError, code: 'GAZETTEER_MALFORMED', transient: true, message: /1 malformed row: line 13: postcode "NOT A POSTCODE"/ });
        assert.strictEqual(malformed.problemCount, 1);
        assertContract(thrown(() => new Gazetteer(file).validateUprn('100023336956')), { type: HubError, code: 'GAZETTEER_NOT_LOADED', transient: true, message: /has not loaded/ });
        const changeOnly = writeDtf(path.join(dir, 'volume-2.csv'), volume(2), [blpu('U', '100023336956', 8)]);
        assertContract(await rejected(readDtf(changeOnly)), { type: GazetteerLoadError, code: 'GAZETTEER_VOLUME_REFUSED', transient: true, message: /line 1: change-only volume 4405\/2026-11-01\/2 has no full DTF extract/ });
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it('a revenues request or ack file that breaks the contract is permanent', () => {
      const row = { request_id: 'D-1' } as RevenuesRequestRow;
      assertContract(thrown(() => buildRequestFile([])), { type: RevenuesFileError, code: 'EMPTY_REQUEST_FILE', transient: false });
      assertContract(thrown(() => buildRequestFile([row, row])), { type: RevenuesFileError, code: 'DUPLICATE_REQUEST_ID', transient: false, message: /D-1 appears twice/ });
      assertContract(thrown(() => buildRequestFile([{ ...row, request_id: '' }])), { type: RevenuesFileError, code: 'MISSING_REQUEST_ID', transient: false });
      const header = thrown(() => parseAckFile('request_id,outcome\r\nD-1,ACCEPTED\r\n')) as RevenuesFileError;
      assertContract(header, { type: RevenuesFileError, code: 'INVALID_ACK_FILE', transient: false, message: /header must be request_id,outcome,reason.*\(line 1\)$/ });
      assert.strictEqual(header.line, 1);
      assertContract(thrown(() => parseAckFile('request_id,outcome,reason\r\nD-1,MAYBE,\r\n')), { type: RevenuesFileError, code: 'INVALID_ACK_FILE', transient: false, message: /outcome "MAYBE"/ });
      assertContract(thrown(() => requestFileForAck('notes.txt')), { type: RevenuesFileError, code: 'INVALID_ACK_FILE_NAME', transient: false });
      assertContract(thrown(() => new RequestBatch({ maxRows: 0, maxAgeMs: 1000 }, () => undefined)), { type: HubError, code: 'CONFIGURATION', transient: false });
    });

    it('a missing or broken sharing rules file is permanent', () => {
      const dir = tempFolder('error-contract-sharing');
      try {
        const file = path.join(dir, 'sharing-rules.json');
        assertContract(thrown(() => new SharingPolicy(file).rules()), { type: SharingRulesError, code: 'SHARING_RULES_MISSING', transient: false, message: /does not exist/ });
        fs.writeFileSync(file, '{ "targets": ');
        assertContract(thrown(() => new SharingPolicy(file).decide('planning', {})), { type: SharingRulesError, code: 'SHARING_RULES_INVALID', transient: false, message: /is not valid JSON/ });
        assertContract(thrown(() => parseSharingRules('{"targets": {"planning": {"events": 3}}}')), { type: SharingRulesError, code: 'SHARING_RULES_INVALID', transient: false });
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('the adapters\' sources', () => {
    const root = path.resolve(__dirname, '..', '..', '..');
    const sources = (dir: string): string[] =>
      fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) return entry.name === 'canonical' ? [] : sources(full);
        return entry.name.endsWith('.ts') ? [full] : [];
      });

    it('have no error class outside the contract and throw no plain Error', () => {
      const files = sources(path.join(root, 'adapters'));
      assert.ok(files.length > 20, `found the adapters' sources (${files.length})`);
      const offences: string[] = [];
      for (const file of files) {
        const text = fs.readFileSync(file, 'utf8');
        const where = path.relative(root, file);
        for (const match of text.matchAll(/class (\w+) extends (Error|TypeError|RangeError)\b/g)) {
          if (where !== path.join('adapters', 'errors.ts')) offences.push(`${where}: class ${match[1]} extends ${match[2]}`);
        }
        for (const match of text.matchAll(/(throw|reject\()\s*new (Error|TypeError|RangeError)\(/g)) offences.push(`${where}: ${match[0]}`);
      }
      assert.deepStrictEqual(offences, []);
    });
  });
});
