import type { NodeAPI, NodeDef, Node, Send, Done } from '../types';
import { getMessageProperty, setMessageProperty } from '../types';
import { MappingError } from '../../adapters/mapping';
import { hubPort } from '../port';

interface MapNodeDef extends NodeDef {
  mapping: string;
  property: string;
  output: string;
}

/** What a failed mapping leaves on the message for Catch, the journal and the console. */
function describeFailure(err: MappingError) {
  return {
    mapping: err.mapping, stage: err.stage, reason: err.reason, code: err.code, position: err.position, line: err.line,
    column: err.column, token: err.token, schema: err.schema, schemaPath: err.schemaPath, instancePath: err.instancePath,
  };
}

/**
 * Runs a named JSONata mapping from mappings/ on a message property, with msg.bindings as
 * its bindings, and checks the output against the mapping's target schema.
 */
export = function register(RED: NodeAPI) {
  const library = hubPort(RED).mappings;

  // The editor's list of mappings; read-only, so the support role may see it too.
  RED.httpAdmin.get('/council-hub/mappings', RED.auth.needsPermission('map.read'), (_req, res) => {
    res.json(library.list().map(({ name, target, description }) => ({ name, target, description, compiled: library.load(name).compiled })));
  });

  function MapNode(this: Node, config: MapNodeDef) {
    RED.nodes.createNode(this, config);
    const mapping = config.mapping;
    const property = config.property || 'payload';
    const output = config.output || property;

    // Compile now, so that a broken mapping shows on the node at deploy, not at the first message.
    try {
      const loaded = library.load(mapping);
      // Green dot: compiled to JavaScript; yellow dot: runs on the jsonata interpreter (same answers, slower).
      if (loaded.compiled) this.status({ fill: 'green', shape: 'dot', text: `${mapping} (compiled)` });
      else {
        this.status({ fill: 'yellow', shape: 'dot', text: `${mapping} (${RED._('map.status.interpreted')})` });
        if (loaded.compileProblem) this.warn(`${mapping} runs on the jsonata interpreter: ${loaded.compileProblem}`);
      }
    } catch (err) {
      this.status({ fill: 'red', shape: 'ring', text: 'map.status.broken' });
      this.error((err as Error).message);
    }

    this.on('input', async (msg, send: Send, done: Done) => {
      try {
        const bindings = (msg as { bindings?: unknown }).bindings;
        const result = await library.run(
          mapping,
          getMessageProperty(RED, msg, property),
          bindings && typeof bindings === 'object' && !Array.isArray(bindings) ? (bindings as Record<string, unknown>) : {},
        );
        setMessageProperty(RED, msg, output, result);
        send(msg);
        done();
      } catch (err) {
        if (err instanceof MappingError) (msg as { mappingError?: unknown }).mappingError = describeFailure(err);
        done(err as Error);
      }
    });
  }
  RED.nodes.registerType('map', MapNode);
};
