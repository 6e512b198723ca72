import path from 'path';
import type { NodeAPI, NodeDef, Node, Send, Done } from '../types';
import { getMessageProperty, setMessageProperty } from '../types';
import { GazetteerLoadError, openSharedGazetteer, type GazetteerCandidate, type GazetteerLoadReport } from '../../adapters/gazetteer';
import { hubPort } from '../port';

interface GazetteerNodeDef extends NodeDef {
  file: string;
  addresses: string;
}

interface AddressAttention {
  property: string;
  reason: string;
  candidates: GazetteerCandidate[];
}

/**
 * Validates or enriches the addresses on a message against the LLPG extract: resolved ones
 * (BS7666) go to output 1; a message with any address that needs a person goes to output 2
 * with msg.attention = {reason, candidates, property, addresses}.
 */
export = function register(RED: NodeAPI) {
  function GazetteerNode(this: Node, config: GazetteerNodeDef) {
    RED.nodes.createNode(this, config);
    const properties = (config.addresses || 'payload.previousAddress, payload.newAddress')
      .split(',')
      .map((p) => p.trim().replace(/^msg\./, ''))
      .filter(Boolean);
    if (!config.file) {
      this.status({ fill: 'red', shape: 'ring', text: 'gazetteer.status.no-file' });
      this.on('input', (_msg, _send: Send, done: Done) => done(new Error('gazetteer: no extract file is configured')));
      return;
    }
    const handle = openSharedGazetteer(path.resolve(config.file));
    const { gazetteer } = handle;
    const versions = hubPort(RED).gazetteerVersions;
    const onLoaded = (report: GazetteerLoadReport) => {
      this.status({ fill: 'green', shape: 'dot', text: `${report.records} addresses, ${report.version}` });
      versions?.record({ file: report.file, version: report.version, addresses: report.records, loadedAt: report.loadedAt.toISOString() })
        .catch((err: Error) => this.warn(`gazetteer version ${report.version} not recorded in the shared store: ${err.message}`));
    };
    // The status names why a file was refused; the log has every problem with its line.
    const showRefused = (err: Error) => {
      const reason = err instanceof GazetteerLoadError ? err.summary : err.message;
      const kept = gazetteer.lastLoad ? `, ${gazetteer.lastLoad.version} in use` : '';
      this.status({ fill: gazetteer.loaded ? 'yellow' : 'red', shape: 'ring', text: `refused: ${reason}${kept}` });
    };
    const onFailed = (err: Error) => {
      showRefused(err);
      this.error(err.message);
    };
    gazetteer.on('loaded', onLoaded);
    gazetteer.on('load-failed', onFailed);
    if (gazetteer.lastLoad) onLoaded(gazetteer.lastLoad);
    else this.status({ fill: 'yellow', shape: 'ring', text: 'gazetteer.status.loading' });
    handle.ready.catch((err: Error) => {
      // also for a node that opened the file after its first load had failed (the event came before it listened)
      if (!gazetteer.loaded) showRefused(err);
    });

    this.on('input', async (msg, send: Send, done: Done) => {
      try {
        if (!gazetteer.loaded) await handle.ready;
        const attention: AddressAttention[] = [];
        for (const property of properties) {
          const value = getMessageProperty(RED, msg, property);
          if (!value || typeof value !== 'object') {
            attention.push({ property, reason: `there is no address at msg.${property}`, candidates: [] });
            continue;
          }
          const result = gazetteer.resolve(value);
          if (result.status === 'enriched') setMessageProperty(RED, msg, property, result.address);
          else attention.push({ property, reason: `msg.${property}: ${result.reason}`, candidates: result.candidates });
        }
        if (attention.length === 0) send([msg, null]);
        else {
          (msg as { attention?: unknown }).attention = { ...attention[0], addresses: attention };
          send([null, msg]);
        }
        done();
      } catch (err) {
        done(err as Error);
      }
    });

    this.on('close', (_removed: boolean, closed: () => void) => {
      gazetteer.off('loaded', onLoaded);
      gazetteer.off('load-failed', onFailed);
      handle.release();
      closed();
    });
  }
  RED.nodes.registerType('gazetteer', GazetteerNode);
};
