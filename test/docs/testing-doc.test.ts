import { existsSync, readdirSync, readFileSync } from 'fs';
import { join } from 'path';

const root = join(__dirname, '..', '..');
const doc = readFileSync(join(root, 'docs', 'testing.md'), 'utf8');

describe('docs/testing.md', () => {
  test('every test file it names exists', () => {
    const named = [...doc.matchAll(/`(test\/[^`\s]+\.test\.ts)`/g)].map((m) => m[1]);
    expect(named.length).toBeGreaterThan(10);
    expect(named.filter((file) => !existsSync(join(root, file)))).toEqual([]);
  });

  test('every real-component test file is in its promise table', () => {
    const real = readdirSync(join(root, 'test', 'real')).filter((f) => f.endsWith('.test.ts')).map((f) => `test/real/${f}`);
    expect(real.length).toBeGreaterThan(5);
    expect(real.filter((file) => !doc.includes(`\`${file}\``))).toEqual([]);
  });

  test('every installer of the real components is named', () => {
    const tools = readdirSync(join(root, 'test', 'real', 'tools')).filter((f) => f.endsWith('.sh') && f !== 'prepare.sh');
    expect(tools.filter((tool) => !doc.includes(`test/real/tools/${tool}`))).toEqual([]);
  });
});
