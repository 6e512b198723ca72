/**
 * A readable difference between two JSON values: one line per place they differ, named by
 * its path ($.address.paon), so a failing fixture says what is wrong without a wall of JSON.
 */
function show(value: unknown): string {
  return value === undefined ? '(nothing)' : JSON.stringify(value);
}

function kind(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'array' : typeof value;
}

export function jsonDiff(expected: unknown, actual: unknown, path = '$'): string[] {
  if (kind(expected) !== kind(actual)) return [`${path}: expected ${show(expected)}, got ${show(actual)}`];
  if (Array.isArray(expected) && Array.isArray(actual)) {
    const lines: string[] = [];
    for (let i = 0; i < Math.max(expected.length, actual.length); i++) {
      if (i >= actual.length) lines.push(`${path}[${i}]: missing, expected ${show(expected[i])}`);
      else if (i >= expected.length) lines.push(`${path}[${i}]: not expected, got ${show(actual[i])}`);
      else lines.push(...jsonDiff(expected[i], actual[i], `${path}[${i}]`));
    }
    return lines;
  }
  if (expected && typeof expected === 'object') {
    const e = expected as Record<string, unknown>;
    const a = actual as Record<string, unknown>;
    const lines: string[] = [];
    for (const key of new Set([...Object.keys(e), ...Object.keys(a)])) {
      const at = /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
      if (!(key in a)) lines.push(`${at}: missing, expected ${show(e[key])}`);
      else if (!(key in e)) lines.push(`${at}: not expected, got ${show(a[key])}`);
      else lines.push(...jsonDiff(e[key], a[key], at));
    }
    return lines;
  }
  return expected === actual ? [] : [`${path}: expected ${show(expected)}, got ${show(actual)}`];
}
