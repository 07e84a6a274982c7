/**
 * Proves that Python and Java users get the same library: synthesizes every reference app from the packages
 * jsii-pacmak built (dist/python, dist/java), in a clean virtual environment and a local Maven repository, and
 * compares each template with the TypeScript app's template. Also runs the examples' own bad-input tests.
 *
 *   npx projen test:bindings                  # after a build: rosetta, packaging, then the checks
 *   npx projen test:bindings --no-package     # reuse the packages already in dist/
 *
 * The README is held to the same standard: its first stack, written in each language, and the Python and Java
 * translations jsii-rosetta made of its TypeScript examples (the ones Construct Hub shows) are run, and their
 * templates compared with the TypeScript ones.
 *
 * Prints the time of each step and the size of each package; exits non-zero on any difference.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { readmeBlocks, snippetPrograms } from './readme-programs';
import { templateDifferences, normalizeTemplate } from './template-compare';
import { REFERENCE_APPS } from './ts/apps';

const root = path.resolve(__dirname, '..');
const work = path.join(root, '.tmp', 'bindings');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const version: string = pkg.version;
const cdkVersion: string = pkg.devDependencies['aws-cdk-lib'];
const constructsVersion: string = pkg.devDependencies.constructs;
// The Python build of the kubectl layer package that the tenant platform's app uses by default (same version as npm).
const kubectlLayerVersion: string = pkg.devDependencies['@aws-cdk/lambda-layer-kubectl-v35'];
const timings: Array<[string, number]> = [];

function step<T>(name: string, fn: () => T): T {
  const start = Date.now();
  console.log(`\n== ${name}`);
  const result = fn();
  timings.push([name, (Date.now() - start) / 1000]);
  return result;
}

function run(cmd: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): void {
  console.log(`$ ${[cmd, ...args].join(' ')}${options.cwd ? `   (in ${path.relative(root, options.cwd) || '.'})` : ''}`);
  execFileSync(cmd, args, { cwd: options.cwd ?? root, env: { ...process.env, ...options.env }, stdio: 'inherit' });
}

const skipPackaging = process.argv.includes('--no-package');
for (const target of ['js', 'python', 'java']) {
  if (skipPackaging) break;
  step(`package:${target} (jsii-pacmak)`, () => run(process.execPath, [require.resolve('projen/bin/projen'), `package:${target}`]));
}

/** A reference app's comparison context, handed to the Python and Java programs the way the CDK CLI does. */
function contextEnv(ref: { bindingsContext?: Record<string, string> }): Record<string, string> {
  return ref.bindingsContext ? { CDK_CONTEXT_JSON: JSON.stringify(ref.bindingsContext) } : {};
}

function onlyFile(dir: string, pattern: RegExp): string {
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => pattern.test(f)) : [];
  if (files.length !== 1) throw new Error(`expected one ${pattern} in ${path.relative(root, dir)}, found ${files.length}: run the packaging first (npx projen test:bindings does)`);
  return path.join(dir, files[0]);
}

const wheel = onlyFile(path.join(root, 'dist', 'python'), /^cdk_openclaw-.*\.whl$/);
const javaDir = path.join(root, 'dist', 'java', 'io', 'github', 'cdkopenclaw', 'cdk-openclaw', version);
const jar = path.join(javaDir, `cdk-openclaw-${version}.jar`);
const pom = path.join(javaDir, `cdk-openclaw-${version}.pom`);
if (!fs.existsSync(jar)) throw new Error(`no ${path.relative(root, jar)}: run the packaging first (npx projen test:bindings does)`);

fs.rmSync(work, { recursive: true, force: true });
fs.mkdirSync(work, { recursive: true });
const outdir = (language: string, app: string) => path.join(work, language, app);

step('TypeScript: synthesize the reference apps', () => {
  for (const ref of REFERENCE_APPS) {
    const app = new App({ outdir: outdir('typescript', ref.name), context: ref.bindingsContext });
    ref.create(app, ref.stackId);
    app.synth();
  }
});

const tablet = path.join(root, '.jsii.tabl.json');
if (!fs.existsSync(tablet) || fs.statSync(tablet).mtimeMs < fs.statSync(path.join(root, '.jsii')).mtimeMs) {
  throw new Error('.jsii.tabl.json is missing or older than .jsii: run npx projen rosetta:extract first (test:all does)');
}
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
const firstStack = readmeBlocks(readme);
const snippets = snippetPrograms(JSON.parse(fs.readFileSync(tablet, 'utf8')));
const readmeDir = path.join(work, 'readme');
const javaReadme = path.join(work, 'readme-java');
// Type-checked already by jsii-rosetta (--strict) and by eslint's program; here they only need to run.
const tsNode = [require.resolve('ts-node/dist/bin.js'), '--transpile-only', '-r', 'tsconfig-paths/register', '--project', path.join(root, 'tsconfig.dev.json')];

step('TypeScript: run the README\'s first stack and its examples', () => {
  fs.mkdirSync(readmeDir, { recursive: true });
  fs.writeFileSync(path.join(readmeDir, 'first-stack.ts'), firstStack.typescript);
  fs.writeFileSync(path.join(readmeDir, 'snippets.ts'), snippets.typescript);
  run(process.execPath, [...tsNode, path.join(readmeDir, 'first-stack.ts')], { env: { CDK_OUTDIR: outdir('typescript', 'readme-first-stack') } });
  run(process.execPath, [...tsNode, path.join(readmeDir, 'snippets.ts')], { env: { CDK_OUTDIR: outdir('typescript', 'readme-snippets') } });
});

const venv = path.join(work, 'venv');
const python = path.join(venv, 'bin', 'python');
step('Python: a clean virtual environment with the wheel, aws-cdk-lib and constructs', () => {
  run('python3', ['-m', 'venv', venv]);
  run(python, ['-m', 'pip', 'install', '--quiet', '--no-input', wheel, `aws-cdk-lib==${cdkVersion}`, `constructs==${constructsVersion}`,
    `aws-cdk.lambda-layer-kubectl-v35==${kubectlLayerVersion}`]);
});
step('Python: synthesize every example and run its tests', () => {
  const cwd = path.join(root, 'examples', 'python');
  for (const ref of REFERENCE_APPS) {
    run(python, [ref.pythonFile], { cwd, env: { CDK_OUTDIR: outdir('python', ref.name), ...contextEnv(ref) } });
  }
  // unittest reports on stderr; Python 3.11 exits 0 when no test ran, so count them.
  const tests = spawnSync(python, ['-m', 'unittest', 'discover', '-v', '-s', 'tests'], {
    cwd, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' }, encoding: 'utf8',
  });
  process.stdout.write(tests.stdout + tests.stderr);
  if (tests.status !== 0) throw new Error('the Python examples\' tests failed');
  expectTestsRan('Python examples', /^Ran (\d+) tests?/m.exec(tests.stderr)?.[1]);
});
step('Python: run the README\'s first stack and the translations of its examples', () => {
  fs.writeFileSync(path.join(readmeDir, 'first_stack.py'), firstStack.python);
  fs.writeFileSync(path.join(readmeDir, 'snippets.py'), snippets.python);
  run(python, [path.join(readmeDir, 'first_stack.py')], { env: { CDK_OUTDIR: outdir('python', 'readme-first-stack') } });
  run(python, [path.join(readmeDir, 'snippets.py')], { env: { CDK_OUTDIR: outdir('python', 'readme-snippets') } });
});

const mvn = ['-B', '-q', '--no-transfer-progress'];
step('Java: install the jar into the local Maven repository', () => {
  run('mvn', [...mvn, 'install:install-file', `-Dfile=${jar}`, `-DpomFile=${pom}`]);
});
step('Java: run the examples\' tests and synthesize every example', () => {
  const cwd = path.join(root, 'examples', 'java');
  const versionArg = `-Dcdk-openclaw.version=${version}`;
  run('mvn', [...mvn, versionArg, 'test'], { cwd });
  const report = fs.readFileSync(path.join(cwd, 'target', 'surefire-reports', 'io.github.cdkopenclaw.examples.BadInputTest.txt'), 'utf8');
  if (!/Failures: 0, Errors: 0, Skipped: 0/.test(report)) throw new Error(`Java example tests did not all pass:\n${report}`);
  expectTestsRan('Java examples', /Tests run: (\d+)/.exec(report)?.[1]);
  for (const ref of REFERENCE_APPS) {
    run('mvn', [...mvn, versionArg, 'exec:java', `-Dexec.mainClass=io.github.cdkopenclaw.examples.${ref.javaClass}`], {
      cwd, env: { CDK_OUTDIR: outdir('java', ref.name), ...contextEnv(ref) },
    });
  }
});

step('Java: run the README\'s first stack and the translations of its examples', () => {
  // A project of its own, like a user's: the examples' pom with the README's sources.
  const src = path.join(javaReadme, 'src', 'main', 'java');
  fs.mkdirSync(path.join(src, 'readme'), { recursive: true });
  fs.copyFileSync(path.join(root, 'examples', 'java', 'pom.xml'), path.join(javaReadme, 'pom.xml'));
  const firstStackFile = path.join(src, ...firstStack.javaClass.split('.')) + '.java';
  fs.mkdirSync(path.dirname(firstStackFile), { recursive: true });
  fs.writeFileSync(firstStackFile, firstStack.java);
  fs.writeFileSync(path.join(src, 'readme', 'Snippets.java'), snippets.java);
  const versionArg = `-Dcdk-openclaw.version=${version}`;
  run('mvn', [...mvn, versionArg, 'compile', 'exec:java', `-Dexec.mainClass=${firstStack.javaClass}`], {
    cwd: javaReadme, env: { CDK_OUTDIR: outdir('java', 'readme-first-stack') },
  });
  run('mvn', [...mvn, versionArg, 'exec:java', '-Dexec.mainClass=readme.Snippets'], {
    cwd: javaReadme, env: { CDK_OUTDIR: outdir('java', 'readme-snippets') },
  });
});

let failed = false;
step('Compare every template with the TypeScript one', () => {
  const compared: Array<[string, string]> = [
    ...REFERENCE_APPS.map((ref): [string, string] => [ref.name, ref.stackId]),
    ['readme-first-stack', 'MyOpenClaw'],
    ...snippets.stackIds.map((id): [string, string] => ['readme-snippets', id]),
  ];
  for (const [name, stackId] of compared) {
    const read = (language: string) => JSON.parse(fs.readFileSync(path.join(outdir(language, name), `${stackId}.template.json`), 'utf8'));
    const expected = normalizeTemplate(read('typescript'));
    for (const language of ['python', 'java']) {
      const differences = templateDifferences(expected, normalizeTemplate(read(language)));
      if (differences.length === 0) {
        console.log(`${name} ${stackId}: the ${language} template is identical to the TypeScript one`);
      } else {
        failed = true;
        console.error(`${name} ${stackId}: the ${language} template differs from the TypeScript one:\n  ${differences.slice(0, 20).join('\n  ')}`);
      }
    }
  }
});

function expectTestsRan(what: string, count: string | undefined): void {
  if (!count || Number(count) === 0) throw new Error(`${what}: no test ran`);
  console.log(`${what}: ${count} tests passed`);
}

const kib = (file: string) => `${(fs.statSync(file).size / 1024).toFixed(0)} KiB`;
const tarball = path.join(root, 'dist', 'js', `cdk-openclaw@${version}.jsii.tgz`);
console.log('\npackage sizes:');
if (fs.existsSync(tarball)) console.log(`  npm tarball  ${kib(tarball)}`);
console.log(`  wheel        ${kib(wheel)}`);
console.log(`  jar          ${kib(jar)}`);
console.log('step times (seconds):');
for (const [name, seconds] of timings) console.log(`  ${seconds.toFixed(1).padStart(6)}  ${name}`);
if (failed) process.exit(1);
