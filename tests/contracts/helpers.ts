import * as soap from 'soap';
import { generatePopulation, Population } from '../../simulators/population';

/** One small population shared by the contract tests (the same seed gives the same people). */
let shared: Population | undefined;
export function testPopulation(): Population {
  shared ??= generatePopulation({ seed: 'contract-tests', properties: 3000 });
  return shared;
}

/** A SOAP client built from the WSDL the simulator serves, as any real client would. */
export function clientFor(endpoint: string): Promise<soap.Client> {
  return soap.createClientAsync(`${endpoint}?wsdl`, { disableCache: true });
}

export interface ParsedFault {
  faultcode: string;
  faultstring: string;
  name: string;
  reason: string;
}

/** Calls an operation that must fail with a SOAP fault and returns the fault's parts. */
export async function expectFault(client: soap.Client, operation: string, args: object): Promise<ParsedFault> {
  try {
    await client[`${operation}Async`](args);
  } catch (err) {
    const fault = (err as any).root?.Envelope?.Body?.Fault;
    if (!fault) throw err;
    return { faultcode: fault.faultcode, faultstring: fault.faultstring, name: fault.detail?.fault?.name, reason: fault.detail?.fault?.reason };
  }
  throw new Error(`${operation} answered without a fault`);
}

/** Waits until check() returns a value (not undefined), trying every 50 ms, up to timeoutMs. */
export async function waitFor<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs = 10000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('waitFor: timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
