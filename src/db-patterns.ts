/**
 * Database name patterns of BRIDGE_CONFIG (`frozen:`, `upstreams[].databases`): a name, or a name
 * with `*` standing for any run of characters (`legacy_*`). Matched piece by piece with `indexOf`
 * (no regular expression built from configuration or request data).
 */
export function matchesAny(patterns: readonly string[], db: string): boolean {
  return patterns.some((pattern) => matchesGlob(pattern, db));
}

function matchesGlob(pattern: string, name: string): boolean {
  const parts = pattern.split('*');
  if (parts.length === 1) return pattern === name;
  const first = parts[0] as string;
  const last = parts[parts.length - 1] as string;
  if (!name.startsWith(first) || name.length < first.length + last.length) return false;
  let at = first.length;
  for (const middle of parts.slice(1, -1)) {
    const i = name.indexOf(middle, at);
    if (i < 0) return false;
    at = i + middle.length;
  }
  return name.length - last.length >= at && name.endsWith(last);
}
