/**
 * A config node's secret: its Node-RED credential (stored encrypted in the user dir), else
 * the environment variable the node names. Flows kept in git cannot carry credentials
 * (Node-RED ignores them in a flow file), so a flow that must run on a fresh clone, such as
 * the demo, names variables instead (e.g. PLANNING_PASSWORD), set by the operator or, in
 * the demo profile, by the hub from its simulators.
 */
export function secret(credential: string | undefined, envName: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (credential) return credential;
  const name = envName?.trim();
  return name ? env[name] : undefined;
}
