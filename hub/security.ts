import type { HubUser, Role } from './config';

/**
 * Node-RED permission scopes per hub role. Node-RED treats "read" as every `*.read`
 * permission, so support staff can look at flows but never deploy them. The console's
 * own API asks for `console.read` (look) and `console.write` (replay, discard); the data
 * protection officer's tools (find, export, erase a person; the access log; a retention
 * run) ask for `console.dpo`, which developers and the dpo role have.
 */
export const roleScopes: Record<Role, string | string[]> = {
  developer: '*',
  support: ['read', 'console.write'],
  // The data protection officer: the console (to read) and the person tools, not the flows.
  dpo: ['console.read', 'console.dpo'],
};

export const consolePermissions = { look: 'console.read', act: 'console.write', dpo: 'console.dpo' } as const;

/** The adminAuth section of Node-RED's settings: users with bcrypt hashes, no anonymous access. */
export function adminAuth(users: HubUser[]) {
  return {
    type: 'credentials',
    sessionExpiryTime: 8 * 60 * 60,
    users: users.map((u) => ({ username: u.username, password: u.passwordHash, permissions: roleScopes[u.role] })),
  };
}
