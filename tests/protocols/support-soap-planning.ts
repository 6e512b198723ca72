import http from 'http';
import { randomUUID } from 'crypto';
import type { AddressInfo } from 'net';
import * as soap from 'soap';

/**
 * A planning-like SOAP service on the soap package's own server, on a real HTTP server on
 * 127.0.0.1: the peer the SOAP client and the soap-request node are tested against. Like
 * the planning system (CONTRACTS.md) it works in a session: LogonToConnector sets a
 * cookie, any other call without a live session gets the fault NotLoggedOn. The test
 * controls it: expire every session, make the next calls fail with ServiceUnavailable.
 */

const NS = 'urn:council-hub:PlanningService';

export const planningWsdl = `<?xml version="1.0" encoding="UTF-8"?>
<wsdl:definitions name="PlanningService" targetNamespace="${NS}" xmlns:tns="${NS}"
    xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"
    xmlns:xsd="http://www.w3.org/2001/XMLSchema">
  <wsdl:types>
    <xsd:schema targetNamespace="${NS}" elementFormDefault="qualified">
      <xsd:element name="fault"><xsd:complexType><xsd:sequence>
        <xsd:element name="name" type="xsd:string"/><xsd:element name="reason" type="xsd:string"/>
      </xsd:sequence></xsd:complexType></xsd:element>
      <xsd:element name="LogonToConnector"><xsd:complexType><xsd:sequence>
        <xsd:element name="databaseId" type="xsd:string"/><xsd:element name="userName" type="xsd:string"/>
        <xsd:element name="password" type="xsd:string"/>
      </xsd:sequence></xsd:complexType></xsd:element>
      <xsd:element name="LogonToConnectorResponse"><xsd:complexType><xsd:sequence>
        <xsd:element name="result" type="xsd:string"/>
      </xsd:sequence></xsd:complexType></xsd:element>
      <xsd:element name="LogoffFromConnector"><xsd:complexType><xsd:sequence/></xsd:complexType></xsd:element>
      <xsd:element name="LogoffFromConnectorResponse"><xsd:complexType><xsd:sequence>
        <xsd:element name="result" type="xsd:string"/>
      </xsd:sequence></xsd:complexType></xsd:element>
      <xsd:element name="GetParty"><xsd:complexType><xsd:sequence>
        <xsd:element name="partyId" type="xsd:string"/>
      </xsd:sequence></xsd:complexType></xsd:element>
      <xsd:element name="GetPartyResponse"><xsd:complexType><xsd:sequence>
        <xsd:element name="partyId" type="xsd:string"/><xsd:element name="forename" type="xsd:string"/>
        <xsd:element name="surname" type="xsd:string"/><xsd:element name="uprn" type="xsd:string"/>
        <xsd:element name="dateOfBirth" type="xsd:date" minOccurs="0"/>
      </xsd:sequence></xsd:complexType></xsd:element>
    </xsd:schema>
  </wsdl:types>
  <wsdl:message name="LogonToConnectorRequest"><wsdl:part name="parameters" element="tns:LogonToConnector"/></wsdl:message>
  <wsdl:message name="LogonToConnectorResponse"><wsdl:part name="parameters" element="tns:LogonToConnectorResponse"/></wsdl:message>
  <wsdl:message name="LogoffFromConnectorRequest"><wsdl:part name="parameters" element="tns:LogoffFromConnector"/></wsdl:message>
  <wsdl:message name="LogoffFromConnectorResponse"><wsdl:part name="parameters" element="tns:LogoffFromConnectorResponse"/></wsdl:message>
  <wsdl:message name="GetPartyRequest"><wsdl:part name="parameters" element="tns:GetParty"/></wsdl:message>
  <wsdl:message name="GetPartyResponse"><wsdl:part name="parameters" element="tns:GetPartyResponse"/></wsdl:message>
  <wsdl:portType name="PlanningPortType">
    <wsdl:operation name="LogonToConnector"><wsdl:input message="tns:LogonToConnectorRequest"/><wsdl:output message="tns:LogonToConnectorResponse"/></wsdl:operation>
    <wsdl:operation name="LogoffFromConnector"><wsdl:input message="tns:LogoffFromConnectorRequest"/><wsdl:output message="tns:LogoffFromConnectorResponse"/></wsdl:operation>
    <wsdl:operation name="GetParty"><wsdl:input message="tns:GetPartyRequest"/><wsdl:output message="tns:GetPartyResponse"/></wsdl:operation>
  </wsdl:portType>
  <wsdl:binding name="PlanningBinding" type="tns:PlanningPortType">
    <soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>
    <wsdl:operation name="LogonToConnector"><soap:operation soapAction="${NS}#LogonToConnector"/><wsdl:input><soap:body use="literal"/></wsdl:input><wsdl:output><soap:body use="literal"/></wsdl:output></wsdl:operation>
    <wsdl:operation name="LogoffFromConnector"><soap:operation soapAction="${NS}#LogoffFromConnector"/><wsdl:input><soap:body use="literal"/></wsdl:input><wsdl:output><soap:body use="literal"/></wsdl:output></wsdl:operation>
    <wsdl:operation name="GetParty"><soap:operation soapAction="${NS}#GetParty"/><wsdl:input><soap:body use="literal"/></wsdl:input><wsdl:output><soap:body use="literal"/></wsdl:output></wsdl:operation>
  </wsdl:binding>
  <wsdl:service name="PlanningService">
    <wsdl:port name="PlanningPort" binding="tns:PlanningBinding"><soap:address location="http://127.0.0.1:1/PlanningService"/></wsdl:port>
  </wsdl:service>
</wsdl:definitions>`;

export const PLANNING_DATABASE = 'UNIFORM_TEST';
export const PLANNING_USER = 'hub';
export const PLANNING_PASSWORD = 'planning-secret';

/** A party the service knows; P404 is one it does not (a permanent fault). */
export const KNOWN_PARTY = { partyId: 'P1001', forename: 'Ann', surname: 'Smith', uprn: '100023336956', dateOfBirth: '1980-03-14' };

function fault(side: 'Client' | 'Server', name: string, reason: string) {
  return { Fault: { faultcode: `soap:${side}`, faultstring: `${name}: ${reason}`, detail: { 'tns:fault': { 'tns:name': name, 'tns:reason': reason } }, statusCode: 500 } };
}

export interface PlanningPeer {
  url: string;
  wsdlUrl: string;
  logons: number;
  logoffs: number;
  /** Every call by operation, with the session cookie and the SOAP header it carried. */
  calls: Array<{ operation: string; cookie?: string; soapHeader?: any }>;
  /** How many times the WSDL was downloaded. */
  wsdlDownloads: number;
  /** When true, every call in a session answers NotLoggedOn, even right after a logon. */
  refuseSessions: boolean;
  /** Ends every session, as 20 idle minutes would. */
  expireSessions(): void;
  /** The next n calls of any operation but logon answer ServiceUnavailable. */
  failNext(n: number): void;
  stop(): Promise<void>;
}

export async function startPlanningPeer(): Promise<PlanningPeer> {
  const sessions = new Set<string>();
  let unavailable = 0;
  const server = http.createServer((_req, res) => {
    res.statusCode = 404;
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  const sessionOf = (req: http.IncomingMessage) => /PlanningSession=([\w-]+)/.exec(String(req.headers.cookie ?? ''))?.[1];
  const peer: PlanningPeer = {
    url: `http://127.0.0.1:${port}/PlanningService`,
    wsdlUrl: `http://127.0.0.1:${port}/PlanningService?wsdl`,
    logons: 0,
    logoffs: 0,
    calls: [],
    wsdlDownloads: 0,
    refuseSessions: false,
    expireSessions: () => sessions.clear(),
    failNext: (n) => {
      unavailable = n;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const inSession = (operation: string, req: http.IncomingMessage, soapHeader: unknown) => {
    const session = sessionOf(req);
    peer.calls.push({ operation, cookie: session, soapHeader });
    if (unavailable > 0) {
      unavailable--;
      throw fault('Server', 'ServiceUnavailable', 'planning is being backed up');
    }
    if (!session || !sessions.has(session) || peer.refuseSessions) throw fault('Client', 'NotLoggedOn', 'no live session: log on first');
  };

  const services = {
    PlanningService: {
      PlanningPort: {
        LogonToConnector(args: any, _cb: unknown, _headers: unknown, req: http.IncomingMessage, res: http.ServerResponse) {
          peer.calls.push({ operation: 'LogonToConnector', cookie: sessionOf(req) });
          if (args.databaseId !== PLANNING_DATABASE || args.userName !== PLANNING_USER || args.password !== PLANNING_PASSWORD) {
            throw fault('Client', 'LogonFailed', 'unknown database, user or password');
          }
          const session = randomUUID();
          sessions.add(session);
          peer.logons++;
          res.setHeader('Set-Cookie', `PlanningSession=${session}; Path=/; HttpOnly`);
          return { result: 'LoggedOn' };
        },
        LogoffFromConnector(_args: any, _cb: unknown, _headers: unknown, req: http.IncomingMessage) {
          const session = sessionOf(req);
          peer.calls.push({ operation: 'LogoffFromConnector', cookie: session });
          if (session) sessions.delete(session);
          peer.logoffs++;
          return { result: 'LoggedOff' };
        },
        GetParty(args: any, _cb: unknown, soapHeader: unknown, req: http.IncomingMessage) {
          inSession('GetParty', req, soapHeader);
          if (args.partyId !== KNOWN_PARTY.partyId) throw fault('Client', 'PartyNotFound', `no party ${args.partyId}`);
          return KNOWN_PARTY;
        },
      },
    },
  };
  // soap.listen takes over the server's request listeners once the WSDL is read: count after that
  await new Promise<void>((resolve, reject) => soap.listen(server, '/PlanningService', services, planningWsdl, (err: unknown) => (err ? reject(err) : resolve())));
  server.on('request', (req: http.IncomingMessage) => {
    if (req.method === 'GET' && /\?wsdl/i.test(req.url ?? '')) peer.wsdlDownloads++;
  });
  return peer;
}
