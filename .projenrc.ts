import { awscdk, javascript } from 'projen';

// aws-cdk-lib is pinned to the newest release whose cloud assembly the newest integ-runner can read
// (schema 53). integ-tests-alpha has no 2.257.0 build on the registry: 2.245.0-alpha.0 is the newest
// and its peer range (^2.245.0) accepts 2.257.0.
const CDK_VERSION = '2.257.0';
const INTEG_TESTS_ALPHA_VERSION = '2.245.0-alpha.0';
const INTEG_RUNNER_VERSION = '2.197.10';
const CDK_CLI_VERSION = '2.1115.1';

const project = new awscdk.AwsCdkConstructLibrary({
  name: 'cdk-openclaw',
  packageName: 'cdk-openclaw',
  description:
    'Deploy OpenClaw, the open-source AI agent gateway, on AWS securely in one cdk deploy: a hardened EC2 gateway, a multi-tenant EKS platform, a CloudFront + WAF edge and a Bedrock audit trail.',
  keywords: ['awscdk', 'cdk', 'openclaw', 'aws', 'bedrock', 'ai-agent', 'security', 'ec2', 'waf', 'cognito'],
  author: 'cdk-openclaw contributors',
  authorAddress: 'maintainers@cdk-openclaw.invalid',
  repositoryUrl: 'https://github.com/cdk-openclaw/cdk-openclaw.git',
  license: 'Apache-2.0',
  stability: 'experimental',
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  tsconfigDevFile: 'tsconfig.dev.json',
  eslintOptions: { dirs: ['src'], tsconfigPath: './tsconfig.dev.json' },

  cdkVersion: CDK_VERSION,
  cdkVersionPinning: false,
  constructsVersion: '10.5.1',
  jsiiVersion: '~6.0.0',

  // The continuous integration of this repository is .ci/run; releases are cut by maintainers.
  github: false,
  release: false,
  depsUpgrade: false,
  pullRequestTemplate: false,

  publishToPypi: {
    distName: 'cdk-openclaw',
    module: 'cdk_openclaw',
  },
  publishToMaven: {
    mavenGroupId: 'io.github.cdkopenclaw',
    mavenArtifactId: 'cdk-openclaw',
    javaPackage: 'io.github.cdkopenclaw',
  },

  devDeps: [
    `@aws-cdk/integ-tests-alpha@${INTEG_TESTS_ALPHA_VERSION}`,
    `@aws-cdk/integ-runner@${INTEG_RUNNER_VERSION}`,
    `aws-cdk@${CDK_CLI_VERSION}`,
    'cdk-nag@3.0.2',
    'tsconfig-paths@^4.2.0',
    // Independent checks (test:oracles): cfn-guard and the AWS Control Tower proactive rules; the IAM simulator
    // (a dev dependency only: its licence forbids bundling it); YAML for the reviewed baseline.
    '@cdklabs/cdk-validator-cfnguard@0.0.62',
    '@cloud-copilot/iam-simulate@0.1.173',
    'yaml@2.9.1',
    // The edge's us-east-1 handler: the Lambda runtime provides the SDK clients; these are for types and tests.
    '@aws-sdk/client-wafv2@3.1141.0',
    '@aws-sdk/client-cloudwatch-logs@3.1169.0',
    '@aws-sdk/client-cloudwatch@3.1162.0',
    '@aws-sdk/client-eventbridge@3.1169.0',
    '@aws-sdk/client-secrets-manager@3.1162.0',
    '@aws-sdk/client-cloudfront@3.1162.0',
    'aws-sdk-client-mock@4.1.0',
    // The pod's secret resolver signs its own requests: its tests check the signature against the SDK's signer.
    '@smithy/signature-v4@5.7.5',
    // The tenant platform's default kubectl layer when the user has it (npm, PyPI). Not a peer dependency: Maven
    // Central has no build of it for Kubernetes 1.33 or later, so Java users pass their own layer.
    '@aws-cdk/lambda-layer-kubectl-v35@2.2.2',
    // Tenant self-service handlers (the runtime provides the clients; these are for types and tests), property-based
    // tests, a real DynamoDB-compatible engine for the concurrent sign-up test, and the auth UI's browser test
    // (driving Debian's chromium).
    '@aws-sdk/client-dynamodb@3.1162.0',
    '@aws-sdk/client-cognito-identity-provider@3.1169.0',
    '@aws-sdk/client-eks@3.1169.0',
    '@aws-sdk/client-sqs@3.1169.0',
    '@aws-sdk/client-iam@3.1169.0',
    '@aws-sdk/client-sns@3.1169.0',
    '@aws-sdk/credential-provider-node@3.972.97',
    '@aws-sdk/client-s3@3.1169.0',
    'fast-check@4.10.2',
    'dynalite@4.0.0',
    'playwright-core@1.65.1',
    // The provisioner's admission policy is evaluated by a real CEL interpreter in its tests.
    '@bufbuild/cel@0.6.1',
    '@bufbuild/protobuf@2.17.0',
  ],

  // integ tests live in integ/ and are run by integ-runner (see the integ tasks below).
  integrationTestAutoDiscover: false,
  lambdaAutoDiscover: true,
  lambdaOptions: {
    runtime: awscdk.LambdaRuntime.NODEJS_24_X,
    // The runtime's own AWS SDK v3 is used: the bundles stay a few kilobytes.
    bundlingOptions: { externals: ['@aws-sdk/*'] },
  },

  jestOptions: {
    // CI must never rewrite a snapshot: a changed boot script or unit file is a failing test.
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    jestConfig: {
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      moduleNameMapper: { '^cdk-openclaw$': '<rootDir>/src/index.ts' },
      // The real-component tier (test/real) starts real servers: it runs in its own task, test:real.
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/real/'],
      coverageReporters: ['text-summary', 'lcov'],
    },
  },
  tsconfigDev: {
    compilerOptions: {
      paths: { 'cdk-openclaw': ['./src/index.ts'] },
    },
    include: ['.projenrc.ts', 'projenrc/**/*.ts', 'integ/**/*.ts', 'examples/**/*.ts', 'bench/**/*.ts', 'oracles/**/*.ts'],
    exclude: ['lib', 'dist', 'cdk.out', '**/cdk.out', 'integ/**/*.snapshot', '.tmp', 'assets'],
  },

  gitignore: [
    'cdk.out/',
    '/examples/ts/**/cdk.out/',
    // integ snapshots keep templates and manifests; asset bodies are rebuilt on every run
    '/integ/**/*.snapshot/asset.*',
    '/integ/**/cdk-integ.out.*',
    '/.tmp/',
    '/bench/.out/',
    '/examples/java/target/',
    '__pycache__/',
    '.venv/',
    '/.jsii.tabl.json',
    '/rosetta-cache.json',
  ],
});

for (const pattern of ['/integ/', '/examples/', '/bench/', '/docs/', '/.ci/', 'cdk.out/', '/rosetta/', '/.tmp/', '/oracles/']) {
  project.addPackageIgnore(pattern);
}
// Lambda handlers ship bundled in assets/; their compiled sources in lib/ are never loaded.
project.addPackageIgnore('/lib/**/*.lambda.js');
project.addPackageIgnore('/lib/**/*.lambda.d.ts');
// Modules only the self-service handlers use (bundled into their assets); the construct never loads them.
for (const module of ['sign-up-limit', 'provision', 'deprovision', 'export', 'tar', 'tenant-naming', 'handler-util', 'gateway-deployment']) {
  project.addPackageIgnore(`/lib/platform/self-service/${module}.js`);
  project.addPackageIgnore(`/lib/platform/self-service/${module}.d.ts`);
}
// The budget function's run (bundled into its asset); the construct loads only contract.js and prices.js.
for (const module of ['budget-run']) {
  project.addPackageIgnore(`/lib/platform/budgets/${module}.js`);
  project.addPackageIgnore(`/lib/platform/budgets/${module}.d.ts`);
}

// Examples and integ tests import the package by its published name; in this repository that name points at src/.
const tsNode = 'ts-node -r tsconfig-paths/register --project tsconfig.dev.json';
project.addTask('synth:examples', {
  description:
    'Synthesize every reference app in examples/ts into cdk.out/ and print resources, cdk-nag findings per pack and the estimated monthly cost',
  exec: `${tsNode} examples/ts/synth-examples.ts`,
  receiveArgs: true,
});

const integEnv = { TS_NODE_PROJECT: 'tsconfig.dev.json', TS_NODE_TRANSPILE_ONLY: 'true' };
const integApp = 'node -r ts-node/register -r tsconfig-paths/register {filePath}';
project.addTask('integ', {
  description: 'Verify the integ test snapshots in integ/ (offline: synthesizes and compares, deploys nothing)',
  env: integEnv,
  exec: `integ-runner --directory integ --app "${integApp}" --test-regex "^integ\\.[a-z0-9-]+\\.ts$" --parallel-regions us-east-1`,
  receiveArgs: true,
});
project.addTask('integ:update', {
  description: 'Re-create the integ test snapshots offline after an intended change',
  env: integEnv,
  // The traces are stripped whatever integ-runner's exit status (it reports the snapshots it rewrote as failures).
  exec: `integ-runner --directory integ --app "${integApp}" --test-regex "^integ\\.[a-z0-9-]+\\.ts$" --parallel-regions us-east-1 --update-on-failed --dry-run; status=$?; node projenrc/strip-integ-traces.js; exit $status`,
  receiveArgs: true,
});

// The browser and TLS tests need chromium and openssl: installed from Debian first when missing.
project.testTask.prependExec('bash projenrc/ensure-test-tools.sh');
project.testTask.spawn(project.tasks.tryFind('integ')!);

project.addTask('rosetta:extract', {
  description: 'Compile every README example under jsii-rosetta --strict (as Construct Hub renders them)',
  exec: 'jsii-rosetta extract --strict --compile --fail .jsii',
});

project.addTask('bench:tenants', {
  description: 'Tenant platform scale: synth time per tenant at 10/100/1,000 tenants as ratios, resources per tenant, largest stack (see bench/README.md)',
  exec: `${tsNode} bench/tenants.ts`,
});
project.addTask('bench:self-service', {
  description: 'Tenant self-service: AWS and Kubernetes calls per sign-up and per provisioning at 10/1,000/10,000 existing users, failing if any grows (see bench/README.md)',
  exec: `${tsNode} bench/self-service.ts`,
});
const benchBudgets = project.addTask('bench:budgets', {
  description: 'Per-tenant budgets: Logs Insights queries and AWS calls per run at 10/1,000/10,000 tenants, failing if a count that must stay flat grows (see bench/README.md)',
  exec: `${tsNode} bench/budgets.ts`,
});
project.addTask('bench', {
  description: 'Measure synth time of the reference apps as a ratio to an empty-stack app (see bench/README.md)',
  exec: `${tsNode} bench/synth-time.ts`,
  receiveArgs: true,
});

const testBindings = project.addTask('test:bindings', {
  description:
    'Package for npm, PyPI and Maven, then synthesize every reference app and README example in Python (clean venv) and Java (local Maven repository) and require templates identical to TypeScript',
});
testBindings.spawn(project.tasks.tryFind('rosetta:extract')!);
testBindings.exec(`${tsNode} examples/bindings.ts`, { receiveArgs: true });

const testOracles = project.addTask('test:oracles', {
  description:
    'Independent tools (cfn-lint, checkov, cfn-guard with the Control Tower rules) over every reference app in cdk.out/, held against oracles/baseline.yaml, and mutants they must catch',
  exec: `${tsNode} oracles/run.ts`,
  receiveArgs: true,
});

const testReal = project.addTask('test:real', {
  description:
    'The real-component tier: the real OpenClaw gateway (npm), a real Kubernetes API server (built from the Go module proxy) and moto\'s AWS emulation, installed or found in a machine-local cache, started and stopped by the tests (see docs/testing.md)',
});
testReal.exec('bash test/real/tools/prepare.sh');
testReal.exec(
  "jest --ci --runInBand --coverage=false --testPathIgnorePatterns=/node_modules/ --testMatch='<rootDir>/test/real/**/*.test.ts'",
  { receiveArgs: true },
);

const testAll = project.addTask('test:all', {
  description:
    'Everything CI checks: build (compile, API.md, jest, eslint, integ snapshots), the real-component tier, the reference apps, the independent checks, README examples under rosetta --strict, the Python and Java bindings',
});
testAll.spawn(project.buildTask);
testAll.spawn(testReal);
testAll.spawn(project.tasks.tryFind('synth:examples')!);
testAll.spawn(testOracles);
testAll.spawn(testBindings);
testAll.spawn(benchBudgets);

// Lint every TypeScript file with the dev tsconfig (src, test, integ, examples, bench), not the per-folder lookup.
project.tryFindObjectFile('.eslintrc.json')?.addOverride('parserOptions.projectService', undefined);
project.tryFindObjectFile('.eslintrc.json')?.addOverride('parserOptions.project', './tsconfig.dev.json');
project.eslint?.addLintPattern('integ');
for (const dir of ['integ', 'examples', 'bench', 'oracles']) project.eslint?.allowDevDeps(`${dir}/**`);
project.eslint?.addLintPattern('examples');
project.eslint?.addLintPattern('bench');
project.eslint?.addLintPattern('oracles');

project.synth();
