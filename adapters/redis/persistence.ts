import type Redis from 'ioredis';

/**
 * What a Redis keeps when it crashes, read from the Redis itself. The hub acknowledges a
 * message once Redis has answered its write, so whether that write survives a crash of
 * Redis is Redis's persistence: the append-only file (AOF) and how often it is flushed to
 * disk (appendfsync), or only RDB snapshots, or nothing at all.
 *
 * `CONFIG GET` says everything; managed Redis (ElastiCache, Azure Cache, ...) often disables
 * or renames CONFIG, and then `INFO persistence` still says whether AOF is on (not its fsync
 * policy, nor whether RDB snapshots are scheduled).
 */
export type AppendFsync = 'always' | 'everysec' | 'no';

export interface RedisPersistence {
  /** The append-only file is on: every write is logged and replayed at start. */
  aof: boolean;
  /** How often the AOF is flushed to disk; undefined when it could not be read (INFO only). */
  appendfsync?: AppendFsync;
  /** AOF off but RDB snapshots scheduled (`save` not empty); undefined when not known. */
  rdbOnly?: boolean;
  /** Where the answer came from: CONFIG GET, INFO persistence, or neither could be read. */
  source: 'config' | 'info' | 'unknown';
  /** One line: what a crash of Redis (or of its machine) can lose. */
  loses: string;
  /** Why CONFIG, or both CONFIG and INFO, could not be read. */
  problem?: string;
}

/** A Redis error reply (unknown command, NOPERM...), as opposed to a connection failure. */
function isReplyError(err: unknown): boolean {
  return (err as Error)?.name === 'ReplyError';
}

/** CONFIG GET answers [name, value] pairs; a renamed-away parameter answers nothing. */
async function configValue(redis: Redis, name: string): Promise<string | undefined> {
  const answer = (await redis.call('CONFIG', 'GET', name)) as string[];
  const at = answer.indexOf(name);
  return at >= 0 ? answer[at + 1] : undefined;
}

function fsyncOf(value: string | undefined): AppendFsync | undefined {
  return value === 'always' || value === 'everysec' || value === 'no' ? value : undefined;
}

/** The one-line consequence of a persistence setting, for logs, /healthz and the README. */
export function whatACrashLoses(p: Omit<RedisPersistence, 'loses'>): string {
  if (p.source === 'unknown') return 'anything: neither CONFIG GET nor INFO persistence could be read';
  if (p.aof) {
    switch (p.appendfsync) {
      case 'always':
        return 'nothing acknowledged: each write is on disk (fsync) before Redis answers it';
      case 'everysec':
        return 'up to about the last second of acknowledged writes (2 s if the disk is slow) if Redis or its machine crashes';
      case 'no':
        return 'whatever the operating system had not yet written to disk (on Linux up to about 30 s) if Redis\'s machine crashes';
      default:
        return 'up to about the last second of acknowledged writes, or more: AOF is on but its fsync policy could not be read (everysec or no)';
    }
  }
  if (p.rdbOnly) return 'every write since the last RDB snapshot: AOF is off, only snapshots are taken';
  if (p.rdbOnly === false) return 'everything: AOF is off and no RDB snapshots are taken, a restart of Redis empties it';
  return 'everything since the last RDB snapshot, if any: AOF is off';
}

function result(p: Omit<RedisPersistence, 'loses'>): RedisPersistence {
  return { ...p, loses: whatACrashLoses(p) };
}

/** Reads INFO persistence's `name:value` lines. */
function infoFields(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at > 0 && !line.startsWith('#')) fields.set(line.slice(0, at), line.slice(at + 1).trim());
  }
  return fields;
}

/**
 * Reads a Redis's persistence: CONFIG GET appendonly, appendfsync and save; if CONFIG is
 * refused (disabled, renamed, ACL), INFO persistence. A connection failure is not retried
 * here: the answer is then `source: 'unknown'` with the reason in `problem`.
 */
export async function redisPersistence(redis: Redis): Promise<RedisPersistence> {
  let configProblem: string;
  try {
    const appendonly = await configValue(redis, 'appendonly');
    if (appendonly !== undefined) {
      const aof = appendonly === 'yes';
      const appendfsync = fsyncOf(await configValue(redis, 'appendfsync'));
      const save = await configValue(redis, 'save');
      return result({
        aof,
        ...(appendfsync ? { appendfsync } : {}),
        ...(save !== undefined ? { rdbOnly: !aof && save.trim() !== '' } : {}),
        source: 'config',
      });
    }
    // Answered, but without the setting (a proxy that filters CONFIG): as if refused.
    configProblem = 'CONFIG GET appendonly answered nothing';
  } catch (err) {
    if (!isReplyError(err)) return result({ aof: false, source: 'unknown', problem: (err as Error).message });
    configProblem = (err as Error).message;
  }
  try {
    const fields = infoFields((await redis.call('INFO', 'persistence')) as string);
    const enabled = fields.get('aof_enabled');
    if (enabled === undefined) return result({ aof: false, source: 'unknown', problem: `CONFIG refused (${configProblem}); INFO: INFO persistence has no aof_enabled` });
    return result({ aof: enabled === '1', source: 'info', problem: `CONFIG refused (${configProblem})` });
  } catch (err) {
    return result({ aof: false, source: 'unknown', problem: `CONFIG refused (${configProblem}); INFO: ${(err as Error).message}` });
  }
}

/**
 * Why this persistence is too weak for a journal that acknowledges what it stored, naming
 * the Redis setting to change; undefined when it is good enough. AOF on with an fsync
 * policy that could not be read (managed Redis) is accepted: such services run everysec.
 */
export function persistenceProblem(p: RedisPersistence): string | undefined {
  if (p.source === 'unknown') return `Redis's persistence could not be read (${p.problem ?? 'no answer'}); the hub cannot tell whether AOF (appendonly yes) is on`;
  if (!p.aof) return `Redis has AOF off (set appendonly yes, with appendfsync everysec or always); a crash loses ${p.loses}`;
  if (p.appendfsync === 'no') return `Redis's AOF has appendfsync no (set appendfsync everysec or always); a crash loses ${p.loses}`;
  return undefined;
}

/** One line for the log: what was found and what a crash can lose. */
export function describePersistence(p: RedisPersistence): string {
  const found =
    p.source === 'unknown'
      ? 'persistence unknown'
      : `AOF ${p.aof ? 'on' : 'off'}${p.aof ? `, appendfsync ${p.appendfsync ?? 'not readable'}` : p.rdbOnly ? ', RDB snapshots only' : ''} (from ${p.source === 'config' ? 'CONFIG GET' : 'INFO persistence'})`;
  return `${found}; a crash can lose ${p.loses}`;
}
