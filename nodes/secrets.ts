/**
 * A config node's secret: its Node-RED credential (stored encrypted in the user dir), else
 * the environment variable the node names. Flows kept in git cannot carry credentials
 * (Node-RED ignores them in a flow file), so a flow that must run on a fresh clone, such as
 * the demo, names variables instead (e.g. PLANNING_PASSWORD), set by the operator or, in
 * the demo profile, by the hub from its simulators.
 */
export type Environment = Record<string, string | undefined> | ((name: string) => string | undefined);

/** `env` is the node's environment: RED.util.getSetting(node, name) in a node (flow, group and process variables). */
export function secret(credential: string | undefined, envName: string | undefined, env: Environment): string | undefined {
  if (credential) return credential;
  const name = envName?.trim();
  if (!name) return undefined;
  const value = typeof env === 'function' ? env(name) : env[name];
  return value === undefined || value === null || value === '' ? undefined : String(value);
}
