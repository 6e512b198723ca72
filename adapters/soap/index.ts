/** The hub's SOAP layer: calling services (client), hosting them (server), and what a failure means (errors). */
export { SoapClient, createSoapClient, DEFAULT_CALL_TIMEOUT_MS, DEFAULT_MAX_RESPONSE_BYTES } from './client';
export type { SoapClientOptions, SessionLogonOptions, WsSecurityOptions, CallOptions, SoapClientState } from './client';
export { SoapCallError, isSoapCallError, faultNameOf, soapErrorCode, SOAP_KIND_CODES } from './errors';
export type { SoapFailureKind, SoapCallErrorFields } from './errors';
export {
  SoapFault,
  SoapPathRegistry,
  soapRegistryFor,
  createSoapService,
  hostSoapService,
  soapFaultEnvelope,
  faultFromError,
  normalisePath,
  DEFAULT_MAX_BODY_BYTES,
} from './server';
export type { HostedSoapService, SoapServiceOptions, SoapOperationHandler, SoapRequest, MountPoint } from './server';
export { PendingReplies, pendingSoapReplies, replyKey, DEFAULT_REPLY_TIMEOUT_MS } from './pending';
export type { SoapReplyContext } from './pending';
export { checkSoapXml, XmlRefusedError, XML_REFUSAL_CODES } from './xml-guard';
