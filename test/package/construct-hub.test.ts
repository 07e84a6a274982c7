import { execFileSync } from 'child_process';
import { readFileSync } from 'fs';
import { join } from 'path';

/**
 * What Construct Hub and the three registries need from the npm package: the jsii assembly, the compiled
 * library, the README and the licence; nothing of the repository's tests, examples, docs or scratch files.
 * (Runs after compile: `npx projen build` compiles before it tests.)
 */
const root = join(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

describe('the npm package, as Construct Hub reads it', () => {
  const packed = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'],
  }))[0];
  const files: string[] = packed.files.map((f: { path: string }) => f.path);

  test('contains the jsii assembly, the compiled library with its types, the README and the licence', () => {
    expect(files).toEqual(expect.arrayContaining(['.jsii', 'lib/index.js', 'lib/index.d.ts', 'README.md', 'LICENSE', 'package.json']));
    expect(files.filter((f) => f.startsWith('lib/host/'))).toEqual(expect.arrayContaining(['lib/host/host.js', 'lib/host/host.d.ts']));
  });

  test('contains no tests, integ tests, examples, docs, sources, benchmarks, oracles or scratch files', () => {
    const unwanted = files.filter((f) => /^(test|integ|examples|docs|src|bench|oracles|rosetta|projenrc|\.tmp|\.ci|dist|cdk\.out|coverage)\//.test(f) || /\.ts$/.test(f) && !f.endsWith('.d.ts'));
    expect(unwanted).toEqual([]);
  });

  test('ships each Lambda handler once: bundled in assets/, not again as a compiled source', () => {
    expect(files.filter((f) => /\.lambda\.(js|d\.ts)$/.test(f))).toEqual([]);
    expect(files.filter((f) => f.startsWith('assets/') && f.endsWith('index.js')).sort()).toEqual([
      'assets/edge/global-web-acl.lambda/index.js',
      'assets/edge/origin-header-rotation.lambda/index.js',
      'assets/platform/budgets/budget.lambda/index.js',
      ...['deprovision', 'export', 'post-confirmation', 'pre-sign-up', 'provision', 'rotation', 'session']
        .map((h) => `assets/platform/self-service/${h}.lambda/index.js`),
    ]);
    expect(files.filter((f) => /^lib\/platform\/budgets\/budget-run\./.test(f))).toEqual([]);
  });

  test('ships the sign-in page (uploaded by the self-service construct) and no handler-only module', () => {
    expect(files.filter((f) => f.startsWith('ui/')).sort()).toEqual(['ui/auth/app.css', 'ui/auth/app.js', 'ui/auth/index.html']);
    expect(files.filter((f) => /^lib\/platform\/self-service\/(sign-up-limit|provision|deprovision|export|tar|tenant-naming)\./.test(f))).toEqual([]);
  });

  test('stays small: under 3.5 MiB unpacked (about 3.1 MiB with four constructs, self-service and budgets; the jsii assembly and API.md are a quarter of it)', () => {
    expect(packed.unpackedSize).toBeLessThan(3.5 * 1024 * 1024);
  });

  test('package.json has the awscdk keyword, the types entry and aws-cdk-lib and constructs as peers', () => {
    expect(pkg.keywords).toEqual(expect.arrayContaining(['awscdk', 'cdk', 'openclaw']));
    expect(pkg.types).toBe('lib/index.d.ts');
    expect(pkg.main).toBe('lib/index.js');
    expect(pkg.license).toBe('Apache-2.0');
    expect(pkg.repository?.url).toMatch(/^https:\/\//);
    expect(pkg.peerDependencies).toEqual(expect.objectContaining({ 'aws-cdk-lib': '^2.257.0', 'constructs': expect.stringMatching(/^\^10\./) }));
  });

  test('the jsii section targets npm (dist), PyPI and Maven Central under the published names', () => {
    expect(pkg.jsii.outdir).toBe('dist');
    expect(Object.keys(pkg.jsii.targets).sort()).toEqual(['java', 'python']);
    expect(pkg.jsii.targets.python).toEqual({ distName: 'cdk-openclaw', module: 'cdk_openclaw' });
    expect(pkg.jsii.targets.java).toEqual({ package: 'io.github.cdkopenclaw', maven: { groupId: 'io.github.cdkopenclaw', artifactId: 'cdk-openclaw' } });
  });

  test('the assembly lists the same targets, so the registries build the same packages', () => {
    const assembly = JSON.parse(readFileSync(join(root, '.jsii'), 'utf8'));
    expect(assembly.name).toBe('cdk-openclaw');
    expect(assembly.targets.python.module).toBe('cdk_openclaw');
    expect(assembly.targets.java.package).toBe('io.github.cdkopenclaw');
    expect(assembly.readme.markdown).toContain('## A first stack');
  });
});
