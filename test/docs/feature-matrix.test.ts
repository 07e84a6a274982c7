import { existsSync, readFileSync } from 'fs';
import { join } from 'path';

const root = join(__dirname, '..', '..');
const matrix = readFileSync(join(root, 'docs', 'feature-matrix.md'), 'utf8');
const STATUS = /^(implemented|implemented, untested|rejected|planned|gap)\b/;

/** Test titles of a file, as regular expressions (a test.each title's %s, %d, %p and $name stand for anything). */
function titlesOf(file: string): RegExp[] {
  const source = readFileSync(join(root, file), 'utf8');
  return [...source.matchAll(/\b(?:test|it|describe)(?:\.each[\s\S]*?\)\s*)?\(\s*(?:'((?:\\.|[^'\\])*)'|`([^`]*)`)/g)]
    .map((m) => (m[1] ?? m[2]).replace(/\\(.)/g, '$1'))
    .map((title) => new RegExp(`^${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/%[sdpi]|\\\$\w+/g, '.+')}$`));
}

/** `file: describe › test` references of the matrix whose test title is written out (not abbreviated). */
const references = [...matrix.matchAll(/`(test\/[^`:]+\.test\.ts): ([^`]+)`/g)].map((m) => ({ file: m[1], name: m[2] }));

describe('docs/feature-matrix.md', () => {
  test('names tests that exist: every referenced file, and each written-out test title in it', () => {
    expect(references.length).toBeGreaterThan(30);
    const missing = references.filter(({ file, name }) => {
      if (!existsSync(join(root, file))) return true;
      const title = name.split(' › ').pop()!.trim();
      if (title.includes('…') || title.includes('<')) return false;
      return !titlesOf(file).some((t) => t.test(title));
    });
    expect(missing).toEqual([]);
  });

  test('every row of every feature table ends with a known status', () => {
    // Rows of the tables whose header starts with "| feature |" (other tables compare costs or explain terms).
    const tableRows: string[] = [];
    let inFeatureTable = false;
    for (const line of matrix.split('\n')) {
      if (!line.startsWith('|')) { inFeatureTable = false; continue; }
      if (line.startsWith('| feature |')) { inFeatureTable = true; continue; }
      if (inFeatureTable && !line.startsWith('|---')) tableRows.push(line);
    }
    expect(tableRows.length).toBeGreaterThan(100);
    const bad = tableRows.filter((l) => {
      const cells = l.slice(2, -2).split(' | ');
      return !STATUS.test(cells[cells.length - 1].trim());
    });
    expect(bad).toEqual([]);
  });

  test('the check itself catches a test title that does not exist', () => {
    expect(titlesOf('test/host/monitoring.test.ts').some((t) => t.test('the private default shape, which has no load balancer, alarms on gateway restart loops and error bursts into the topic'))).toBe(true);
    expect(titlesOf('test/host/monitoring.test.ts').some((t) => t.test('a test nobody wrote'))).toBe(false);
  });
});
