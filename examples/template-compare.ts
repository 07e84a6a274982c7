/**
 * Comparing the templates the three languages synthesize for one reference app.
 *
 * Nothing is removed before the comparison: templates are compared whole, and must be identical. The values
 * that could legitimately differ do not occur:
 * - asset hashes: the only assets are aws-cdk-lib's own custom-resource handlers, the same files in every
 *   language (the Python and Java aws-cdk-lib packages carry the same JavaScript bundle); this library ships
 *   no asset of its own, and the examples have no language-specific files as assets;
 * - the `CDKMetadata` resource (analytics, which records the constructs used): the CLI turns it on through
 *   context; the apps here are run without the CLI, so no template has it.
 * If a later construct bundles a language-specific asset, remove its hash here and say why.
 */

/** The template with only the values that legitimately differ between languages removed (see above). */
export function normalizeTemplate(template: any): any {
  return JSON.parse(JSON.stringify(template));
}

/** Every JSON path at which `actual` differs from `expected`, with both values; empty when they are equal. */
export function templateDifferences(expected: any, actual: any, at = '$'): string[] {
  if (Array.isArray(expected) && Array.isArray(actual)) {
    const out: string[] = [];
    if (expected.length !== actual.length) out.push(`${at}: ${expected.length} items, got ${actual.length}`);
    for (let i = 0; i < Math.min(expected.length, actual.length); i++) out.push(...templateDifferences(expected[i], actual[i], `${at}[${i}]`));
    return out;
  }
  if (isObject(expected) && isObject(actual)) {
    const out: string[] = [];
    for (const key of new Set([...Object.keys(expected), ...Object.keys(actual)])) {
      if (!(key in actual)) out.push(`${at}.${key}: missing`);
      else if (!(key in expected)) out.push(`${at}.${key}: unexpected ${short(actual[key])}`);
      else out.push(...templateDifferences(expected[key], actual[key], `${at}.${key}`));
    }
    return out;
  }
  return expected === actual ? [] : [`${at}: expected ${short(expected)}, got ${short(actual)}`];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function short(value: unknown): string {
  const text = JSON.stringify(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
