import type { NodeAPI, NodeDef, Node, NodeMessage, Send, Done } from '../types';
import path from 'path';
import { permanentError } from '../../adapters/errors';
import { SharingPolicy, sharingRulesFile } from '../../adapters/sharing';
import { hubPort } from '../port';

interface ShareNodeDef extends NodeDef {
  target: string;
  rulesFile: string;
}

/**
 * Applies the council's data-sharing rules for one target: output 1 carries msg.payload cut
 * down to the fields the target may have (msg.shared.removed lists what went), output 2 the
 * message the rules do not let the target have (msg.reason says why).
 */
export = function register(RED: NodeAPI) {
  function ShareNode(this: Node, config: ShareNodeDef) {
    RED.nodes.createNode(this, config);
    const paths = hubPort(RED).paths;
    // A relative rules file is taken from the repository root, like the nodes' WSDLs.
    const policy = new SharingPolicy(config.rulesFile ? path.resolve(paths.root, config.rulesFile) : sharingRulesFile(paths.mappings));
    this.on('input', (msg: NodeMessage, send: Send, done: Done) => {
      try {
        if (!config.target) throw permanentError('NODE_CONFIGURATION', 'share: no target configured (e.g. "planning")');
        const m = msg as Record<string, any>;
        const decision = policy.decide(config.target, m.payload);
        if (decision.share) {
          // The event as it was stays on the message for the hub's own checks (person-lookup
          // compares a date of birth the target may not be sent); only msg.payload goes on.
          m.shared = { target: decision.target, removed: decision.removed, before: m.payload };
          m.payload = decision.event;
          send([msg, null]);
        } else {
          m.reason = decision.reason;
          send([null, msg]);
        }
        done();
      } catch (err) {
        done(err as Error);
      }
    });
  }
  RED.nodes.registerType('share', ShareNode);
};
