import sax from 'sax';
import { Parser } from 'xml2js';
import { HubError } from '../errors';

/**
 * The check every SOAP message passes before the soap package parses it, in both
 * directions (requests the hub hosts, responses to the hub's calls). The soap package's
 * own parser copies element and attribute names into plain objects, so a name such as
 * `__proto__` would reach an object's prototype; and XML's DOCTYPE is the door to
 * external entities (XXE) and entity expansion. Both are refused here, with a reason.
 */

export type XmlRefusal = 'empty' | 'doctype' | 'malformed' | 'hostile-name' | 'not-envelope' | 'too-deep';

/** The contract code of each refusal: permanent, the same XML is refused every time. */
export const XML_REFUSAL_CODES: Readonly<Record<XmlRefusal, string>> = {
  empty: 'XML_EMPTY',
  doctype: 'XML_DOCTYPE',
  malformed: 'XML_MALFORMED',
  'hostile-name': 'XML_HOSTILE_NAME',
  'not-envelope': 'XML_NOT_ENVELOPE',
  'too-deep': 'XML_TOO_DEEP',
};

/**
 * How deeply elements may nest. A SOAP message of the council's systems nests about ten deep
 * (Envelope, Body, response, list, item, address...); thousands of levels are an attack on
 * the parsers' stacks and memory, as a huge body is on the size limit.
 */
export const DEFAULT_MAX_XML_DEPTH = 100;

/** Refuses XML nested deeper than maxDepth, reading it once with sax (stops at the first level too many). */
function refuseDeepNesting(xml: string, maxDepth: number): void {
  const parser = sax.parser(true);
  let depth = 0;
  let tooDeep = false;
  parser.onopentag = () => {
    depth += 1;
    if (depth > maxDepth && !tooDeep) {
      tooDeep = true;
      throw new XmlRefusedError('too-deep', `the XML nests elements more than ${maxDepth} deep`);
    }
  };
  parser.onclosetag = () => {
    depth -= 1;
  };
  parser.onerror = () => {
    // well-formedness is judged by the full parse after this one; only depth counts here
    parser.error = null as never;
    parser.resume();
  };
  try {
    parser.write(xml).close();
  } catch (err) {
    if (err instanceof XmlRefusedError) throw err;
  }
}

export class XmlRefusedError extends HubError {
  constructor(
    readonly refusal: XmlRefusal,
    message: string,
  ) {
    super(XML_REFUSAL_CODES[refusal], message, { transient: false });
    this.name = 'XmlRefusedError';
  }
}

/** Names that would reach an object's prototype chain if copied into an object. */
const HOSTILE_NAMES = new Set(['__proto__', 'constructor', 'prototype']);

/** DOCTYPE or ENTITY anywhere (also inside an internal subset): XML that needs either is not SOAP. */
const DTD_DECLARATION = /<!\s*(DOCTYPE|ENTITY)/i;

/** True when the text declares a DOCTYPE or an ENTITY (checked on a raw response, before anything trims it). */
export function declaresDtd(text: string): boolean {
  return DTD_DECLARATION.test(text);
}

function refuseHostileName(name: string): string {
  // "prefix:local" and "xmlns:prefix": every part counts, a prefix is a key too
  for (const part of name.split(':')) {
    if (HOSTILE_NAMES.has(part)) throw new XmlRefusedError('hostile-name', `the XML uses the reserved name "${name}"`);
  }
  return name;
}

/** First line of a sax error, which is all a caller can act on ("Unexpected close tag", line, column). */
function saxReason(err: Error): string {
  const [what, ...where] = err.message.split('\n');
  // sax counts lines from 0; people count from 1
  const line = /^Line: (\d+)/m.exec(where.join('\n'));
  const column = /^Column: (\d+)/m.exec(where.join('\n'));
  return line && column ? `${what} (line ${Number(line[1]) + 1}, column ${column[1]})` : what;
}

function local(name: string): string {
  return name.slice(name.indexOf(':') + 1);
}

/** The local names of the elements in a SOAP Body (the operation's element comes first). */
export interface CheckedEnvelope {
  bodyElements: string[];
}

/**
 * Refuses what the soap package must never see: an empty body, a DOCTYPE/ENTITY
 * declaration, XML that is not well-formed, a hostile element/attribute name, or a
 * document whose root is not a SOAP Envelope, elements nested deeper than maxDepth. Resolves, when the XML is safe to parse,
 * with the names of the elements in its Body.
 */
export async function checkSoapXml(xml: string, maxDepth = DEFAULT_MAX_XML_DEPTH): Promise<CheckedEnvelope> {
  if (!xml.trim()) throw new XmlRefusedError('empty', 'the body is empty');
  if (declaresDtd(xml)) {
    throw new XmlRefusedError('doctype', 'DOCTYPE and ENTITY declarations are not accepted (external entities and entity expansion are refused)');
  }
  refuseDeepNesting(xml, maxDepth);
  const parser = new Parser({
    strict: true,
    tagNameProcessors: [refuseHostileName],
    attrNameProcessors: [refuseHostileName],
    explicitArray: false,
  });
  let document: unknown;
  try {
    document = await parser.parseStringPromise(xml);
  } catch (err) {
    if (err instanceof XmlRefusedError) throw err;
    throw new XmlRefusedError('malformed', `the body is not well-formed XML: ${saxReason(err as Error)}`);
  }
  const root = document && typeof document === 'object' ? Object.keys(document)[0] : undefined;
  if (!root || local(root) !== 'Envelope') {
    throw new XmlRefusedError('not-envelope', `the body is not a SOAP envelope (root element ${root ? `"${root}"` : 'missing'})`);
  }
  // xml2js: attributes under "$", text under "_"; an empty element is ""
  const envelope = (document as Record<string, unknown>)[root];
  const envelopeChildren = envelope && typeof envelope === 'object' ? (envelope as Record<string, unknown>) : {};
  const bodyKey = Object.keys(envelopeChildren).find((k) => local(k) === 'Body');
  const body = bodyKey ? envelopeChildren[bodyKey] : undefined;
  if (!bodyKey) throw new XmlRefusedError('not-envelope', 'the SOAP envelope has no Body');
  const bodyElements = body && typeof body === 'object' ? Object.keys(body).filter((k) => k !== '$' && k !== '_').map(local) : [];
  return { bodyElements };
}

/** True when the text at least claims to be a SOAP envelope (used to tell a SOAP answer from a proxy's error page). */
export function looksLikeSoapEnvelope(text: string): boolean {
  return /<([A-Za-z_][\w.-]*:)?Envelope[\s>/]/.test(text);
}
