import { MappingLibrary } from '../adapters/mapping';
import { repoRoot, mappingsDir } from './paths';
import type { HubPort } from './port';
import { hooksOf, observerFor, type RuntimeHooks } from './runtime/message-observer';
import { Settlement } from './runtime/settlement';

/**
 * The port of nodes that run outside council-hub (a node test with the test helper, the
 * package installed into another Node-RED): the package's own paths and mappings, and
 * settlement on that runtime's hooks, but no journal or stores. One per runtime.
 */
const ports = new WeakMap<RuntimeHooks, HubPort>();

export function standalonePort(RED: { hooks?: RuntimeHooks; util: { generateId(): string } }): HubPort {
  const hooks = hooksOf(RED);
  const observer = observerFor(hooks); // installs again whatever a test helper cleared
  let port = ports.get(hooks);
  if (!port) {
    let mappings: MappingLibrary | undefined;
    const settlement = new Settlement(observer, () => RED.util.generateId());
    port = {
      paths: { root: repoRoot, mappings: mappingsDir },
      get mappings() {
        mappings ??= new MappingLibrary({ mappingsDir });
        return mappings;
      },
      settlement,
      redisPrefix: 'council-hub:journal:',
    };
    ports.set(hooks, port);
  }
  return port;
}
