import fs from 'fs';
import path from 'path';
import { checkSchema, describeProblems } from '../canonical/schemas';
import { HubError } from '../errors';

/**
 * The council's data-sharing rules (mappings/config/sharing-rules.json): per target system,
 * the canonical events it may receive and, for each, the fields. Before an event is mapped for
 * a target, every field not listed is removed; an event the target is not listed for is not
 * sent, and the delivery is skipped with the reason. A listed field brings everything under it
 * ("newAddress" is the whole address, "previousAddress.uprn" only the UPRN). eventType is
 * always kept: it says what the rest is.
 */

/** Where the rules live beside the mappings: <mappingsDir>/config/sharing-rules.json. */
export function sharingRulesFile(mappingsDir: string): string {
  return path.join(mappingsDir, 'config', 'sharing-rules.json');
}

export interface SharingRules {
  description?: string;
  targets: Record<string, { description?: string; events: Record<string, { fields: string[] }> }>;
}

export interface SharedEvent {
  share: true;
  target: string;
  eventType: string;
  /** A copy of the event with only the listed fields (and eventType). */
  event: Record<string, unknown>;
  /** Paths of the fields that were removed, e.g. ["person.dateOfBirth", "person.ids.crmContactId"]. */
  removed: string[];
}

export interface SkippedEvent {
  share: false;
  target: string;
  eventType: string;
  /** Why it may not be sent, for the delivery's journal record ("skipped"). */
  reason: string;
}

export type SharingDecision = SharedEvent | SkippedEvent;

/**
 * The rules file is missing (SHARING_RULES_MISSING) or broken (SHARING_RULES_INVALID).
 * Permanent, as a broken mapping is: the rules are deployed with the hub, and until a
 * person fixes them every try fails the same way (and nothing is shared meanwhile).
 */
export class SharingRulesError extends HubError {
  constructor(message: string, code: 'SHARING_RULES_MISSING' | 'SHARING_RULES_INVALID' = 'SHARING_RULES_INVALID') {
    super(code, message, { transient: false });
    this.name = 'SharingRulesError';
  }
}

/** Checks a rules document; throws SharingRulesError naming the file and what is wrong. */
export function parseSharingRules(text: string, source = 'sharing rules'): SharingRules {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new SharingRulesError(`${source} is not valid JSON: ${(err as Error).message}`);
  }
  const check = checkSchema<SharingRules>('sharing-rules', value);
  if (!check.valid) throw new SharingRulesError(`${source} ${describeProblems(check.problems)}`);
  return check.value;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Copies the value at `segments` from `from` into `into`; arrays on the way apply to each item. */
function copyPath(from: unknown, segments: string[], into: unknown): unknown {
  if (segments.length === 0) return structuredClone(from);
  if (Array.isArray(from)) {
    const target = Array.isArray(into) ? into : [];
    from.forEach((item, i) => {
      const copied = copyPath(item, segments, target[i]);
      if (copied !== undefined) target[i] = copied;
    });
    return target;
  }
  if (!isRecord(from) || !(segments[0] in from)) return into;
  const target = isRecord(into) ? into : {};
  const copied = copyPath(from[segments[0]], segments.slice(1), target[segments[0]]);
  if (copied !== undefined) target[segments[0]] = copied;
  return target;
}

/** Every leaf path of a value ("person.forename"); array items share their array's path. */
function leafPaths(value: unknown, prefix: string, out: Set<string>): void {
  if (Array.isArray(value)) value.forEach((item) => leafPaths(item, prefix, out));
  else if (isRecord(value) && Object.keys(value).length > 0) {
    for (const [key, child] of Object.entries(value)) leafPaths(child, prefix ? `${prefix}.${key}` : key, out);
  } else if (prefix) out.add(prefix);
}

/** Decides whether `target` may receive `event`, and if so which part of it. */
export function decideSharing(rules: SharingRules, target: string, event: unknown): SharingDecision {
  const eventType = isRecord(event) && typeof event.eventType === 'string' ? event.eventType : '';
  const targetRules = rules.targets[target];
  if (!eventType) return { share: false, target, eventType, reason: 'the event has no eventType, so no sharing rule can allow it' };
  if (!targetRules) return { share: false, target, eventType, reason: `no data-sharing rules for target "${target}": it receives nothing` };
  const eventRules = targetRules.events[eventType];
  if (!eventRules) {
    return { share: false, target, eventType, reason: `data-sharing rules do not allow ${eventType} events to be sent to ${target}` };
  }
  let shared: Record<string, unknown> = { eventType };
  for (const field of eventRules.fields) shared = copyPath(event, field.split('.'), shared) as Record<string, unknown>;
  const all = new Set<string>();
  leafPaths(event, '', all);
  const covered = (p: string) => p === 'eventType' || eventRules.fields.some((f) => p === f || p.startsWith(`${f}.`));
  return { share: true, target, eventType, event: shared, removed: [...all].filter((p) => !covered(p)).sort() };
}

/** The rules file, read again whenever it changes; a broken edit keeps nothing: it throws. */
export class SharingPolicy {
  private cached?: { rules: SharingRules; mtimeMs: number; size: number };

  constructor(readonly file: string) {}

  rules(): SharingRules {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(this.file);
    } catch {
      throw new SharingRulesError(`sharing rules file ${this.file} does not exist`, 'SHARING_RULES_MISSING');
    }
    if (!this.cached || this.cached.mtimeMs !== stat.mtimeMs || this.cached.size !== stat.size) {
      const rules = parseSharingRules(fs.readFileSync(this.file, 'utf8'), this.file);
      this.cached = { rules, mtimeMs: stat.mtimeMs, size: stat.size };
    }
    return this.cached.rules;
  }

  decide(target: string, event: unknown): SharingDecision {
    return decideSharing(this.rules(), target, event);
  }

  /** The targets the rules name. */
  targets(): string[] {
    return Object.keys(this.rules().targets);
  }
}
