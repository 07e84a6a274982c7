import { spawnSync, SpawnSyncReturns } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { OpenClawConfig, OpenClawSecretResolver } from '../../src/openclaw';

// Canned secrets returned by the fake AWS CLI. None of them may ever show up on stderr or on disk.
const TOKEN = 's3cr3t-token-VALUE-1';
const JSON_SECRET = JSON.stringify({ user: 'svc', pass: 'p@ss-SECRET-2' });
const NEWLINE_SECRET = 'line-SECRET-3\n';
const STDERR_LEAK = 'leaked-SECRET-in-stderr';
const ALL_SECRETS = [TOKEN, 'p@ss-SECRET-2', 'line-SECRET-3', STDERR_LEAK];

// A fake `aws` executable: records its argv (one JSON line per call) and answers by secret id.
const FAKE_AWS = `
const fs = require('fs');
const argv = process.argv.slice(2);
fs.appendFileSync(process.env.FAKE_AWS_LOG, JSON.stringify(argv) + '\\n');
const idArg = argv.find((a) => a.startsWith('--secret-id='));
const id = idArg ? idArg.slice('--secret-id='.length) : '';
const answers = {
  'openclaw/token': JSON.stringify(${JSON.stringify(TOKEN)}),
  'openclaw/json': JSON.stringify(${JSON.stringify(JSON_SECRET)}),
  'openclaw/newline': JSON.stringify(${JSON.stringify(NEWLINE_SECRET)}),
  'openclaw/binary': 'null',
};
if (id === 'openclaw/slow') {
  setTimeout(() => process.stdout.write('"late"'), 5000);
} else if (id === 'openclaw/denied') {
  process.stderr.write('An error occurred (AccessDeniedException) when calling the GetSecretValue operation: ${STDERR_LEAK}\\n');
  process.exit(254);
} else if (id in answers) {
  process.stdout.write(answers[id] + '\\n');
} else {
  process.stderr.write("An error occurred (ResourceNotFoundException) when calling the GetSecretValue operation: Secrets Manager can't find the specified secret.\\n");
  process.exit(254);
}
`;

let root: string;
let binDir: string;
let workDir: string;
let scriptPath: string;
let fakeAws: string;
let awsLog: string;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'openclaw-resolver-'));
  binDir = path.join(root, 'bin');
  workDir = path.join(root, 'work');
  fs.mkdirSync(binDir);
  fs.mkdirSync(workDir);
  scriptPath = path.join(root, 'resolver', 'openclaw-secret-resolver');
  fs.mkdirSync(path.dirname(scriptPath));
  // Installed the way the host must install it: a regular file, owner-executable, 0500.
  fs.writeFileSync(scriptPath, OpenClawSecretResolver.scriptSource({ nodePath: process.execPath }), { mode: 0o500 });
  fakeAws = path.join(binDir, 'aws');
  fs.writeFileSync(fakeAws, `#!${process.execPath}\n${FAKE_AWS}`, { mode: 0o700 });
});

afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

beforeEach(() => {
  awsLog = path.join(binDir, `calls-${Date.now()}-${Math.random()}.log`);
  fs.writeFileSync(awsLog, '');
});

/** Runs the resolver as OpenClaw does: the file itself, no shell, an environment with only what is passed. */
function run(input: string, args: string[] = ['--allow-prefix', 'openclaw/', '--aws-cli', fakeAws]): SpawnSyncReturns<string> {
  return spawnSync(scriptPath, args, {
    input,
    cwd: workDir,
    encoding: 'utf8',
    env: { FAKE_AWS_LOG: awsLog },
    timeout: 20_000,
  });
}

function request(ids: string[]): string {
  return JSON.stringify({ protocolVersion: 1, provider: 'aws-secrets-manager', ids });
}

function awsCalls(): string[][] {
  return fs.readFileSync(awsLog, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? filesUnder(p) : [p];
  });
}

describe('the exec secret resolver script', () => {
  test('answers the protocol-1 request with the secret values on stdout', () => {
    const res = run(request(['openclaw/token']));
    expect(res.status).toBe(0);
    expect(JSON.parse(res.stdout)).toEqual({ protocolVersion: 1, values: { 'openclaw/token': TOKEN } });
    expect(res.stderr).toBe('');
  });

  test('calls get-secret-value with SecretString as JSON output and --secret-id=<id> as one argument', () => {
    run(request(['openclaw/token']), ['--allow-prefix', 'openclaw/', '--aws-cli', fakeAws, '--region', 'eu-west-3']);
    expect(awsCalls()).toEqual([[
      'secretsmanager', 'get-secret-value', '--secret-id=openclaw/token',
      '--query', 'SecretString', '--output', 'json', '--region', 'eu-west-3',
    ]]);
  });

  test('returns a secret value byte for byte, trailing newline included', () => {
    const res = run(request(['openclaw/newline']));
    expect(JSON.parse(res.stdout).values['openclaw/newline']).toBe(NEWLINE_SECRET);
  });

  test('picks one key of a JSON secret with <id>#<key>', () => {
    const res = run(request(['openclaw/json#pass', 'openclaw/json#nope']));
    const out = JSON.parse(res.stdout);
    expect(out.values).toEqual({ 'openclaw/json#pass': 'p@ss-SECRET-2' });
    expect(out.errors['openclaw/json#nope'].code).toBe('NOT_FOUND');
    expect(awsCalls().map((a) => a[2])).toEqual(['--secret-id=openclaw/json', '--secret-id=openclaw/json']);
  });

  test('ids outside the allowed prefixes get an error entry and never reach the AWS CLI', () => {
    const res = run(request(['other/secret', 'openclaw/token', 'arn:aws:secretsmanager:us-east-1:111122223333:secret:prod-db']));
    const out = JSON.parse(res.stdout);
    expect(out.values).toEqual({ 'openclaw/token': TOKEN });
    expect(out.errors['other/secret']).toEqual({ code: 'NOT_ALLOWED', message: 'id is outside the allowed prefixes' });
    expect(out.errors['arn:aws:secretsmanager:us-east-1:111122223333:secret:prod-db'].code).toBe('NOT_ALLOWED');
    expect(awsCalls()).toHaveLength(1);
    expect(awsCalls()[0][2]).toBe('--secret-id=openclaw/token');
  });

  test('with no --allow-prefix every id is refused (fail closed)', () => {
    const res = run(request(['openclaw/token']), ['--aws-cli', fakeAws]);
    expect(JSON.parse(res.stdout).errors['openclaw/token'].code).toBe('NOT_ALLOWED');
    expect(awsCalls()).toHaveLength(0);
  });

  test('an id with shell metacharacters is passed verbatim as one argv element and runs no shell', () => {
    const evil = 'openclaw/x; touch pwned1 && $(touch pwned2) `touch pwned3` | cat > pwned4';
    const res = run(request([evil]));
    expect(JSON.parse(res.stdout).errors[evil].code).toBe('NOT_FOUND');
    expect(awsCalls()).toEqual([[
      'secretsmanager', 'get-secret-value', `--secret-id=${evil}`, '--query', 'SecretString', '--output', 'json',
    ]]);
    expect(fs.readdirSync(workDir).filter((f) => f.startsWith('pwned'))).toEqual([]);
    expect(fs.readdirSync(path.dirname(scriptPath)).filter((f) => f.startsWith('pwned'))).toEqual([]);
  });

  test('ids with control characters are refused without an AWS call', () => {
    const res = run(request(['openclaw/a\nb']));
    expect(JSON.parse(res.stdout).errors['openclaw/a\nb'].code).toBe('INVALID_ID');
    expect(awsCalls()).toHaveLength(0);
  });

  test('maps ResourceNotFoundException to the NOT_FOUND code OpenClaw recognises', () => {
    const res = run(request(['openclaw/missing']));
    expect(JSON.parse(res.stdout).errors['openclaw/missing']).toEqual({
      code: 'NOT_FOUND', message: 'GetSecretValue failed: ResourceNotFoundException',
    });
  });

  test('AWS CLI stderr is never echoed: only the AWS error code name is kept', () => {
    const res = run(request(['openclaw/denied']));
    expect(res.stdout).not.toContain(STDERR_LEAK);
    expect(res.stderr).not.toContain(STDERR_LEAK);
    expect(JSON.parse(res.stdout).errors['openclaw/denied']).toEqual({
      code: 'AWS_ERROR', message: 'GetSecretValue failed: AccessDeniedException',
    });
  });

  test('a secret without SecretString (binary) is an error, not the string "null"', () => {
    const res = run(request(['openclaw/binary']));
    expect(JSON.parse(res.stdout).errors['openclaw/binary'].code).toBe('NOT_STRING');
  });

  test('each AWS CLI call is bounded by --timeout-ms', () => {
    const started = Date.now();
    const res = run(request(['openclaw/slow', 'openclaw/token']), ['--allow-prefix', 'openclaw/', '--aws-cli', fakeAws, '--timeout-ms', '300']);
    expect(Date.now() - started).toBeLessThan(4000);
    const out = JSON.parse(res.stdout);
    expect(out.errors['openclaw/slow']).toEqual({ code: 'TIMEOUT', message: 'AWS CLI timed out after 300ms' });
    expect(out.values['openclaw/token']).toBe(TOKEN);
  });

  test('a missing AWS CLI is reported per id without crashing', () => {
    const res = run(request(['openclaw/token']), ['--allow-prefix', 'openclaw/', '--aws-cli', path.join(binDir, 'no-such-aws')]);
    expect(res.status).toBe(0);
    expect(JSON.parse(res.stdout).errors['openclaw/token']).toEqual({ code: 'AWS_ERROR', message: 'AWS CLI failed: ENOENT' });
  });

  test('an unknown protocolVersion is rejected with a non-zero exit and no AWS call', () => {
    const res = run(JSON.stringify({ protocolVersion: 2, provider: 'x', ids: ['openclaw/token'] }));
    expect(res.status).not.toBe(0);
    expect(res.stdout).toBe('');
    expect(res.stderr).toContain('protocolVersion');
    expect(awsCalls()).toHaveLength(0);
  });

  test.each([
    ['not JSON', 'this is not json'],
    ['an array', '[1,2]'],
    ['ids not a list of strings', JSON.stringify({ protocolVersion: 1, ids: [1] })],
    ['no ids', JSON.stringify({ protocolVersion: 1 })],
    ['empty input', ''],
  ])('malformed stdin (%s) exits non-zero without output', (_name, input) => {
    const res = run(input);
    expect(res.status).not.toBe(0);
    expect(res.stdout).toBe('');
    expect(awsCalls()).toHaveLength(0);
  });

  test('unknown command-line arguments are rejected', () => {
    const res = run(request(['openclaw/token']), ['--allow-prefix', 'openclaw/', '--shell', 'yes']);
    expect(res.status).not.toBe(0);
    expect(res.stdout).toBe('');
  });

  test('duplicate ids are fetched once', () => {
    run(request(['openclaw/token', 'openclaw/token']));
    expect(awsCalls()).toHaveLength(1);
  });

  test('nothing it writes to stderr or to disk contains a secret value', () => {
    const runs = [
      run(request(['openclaw/token', 'openclaw/json#pass', 'openclaw/newline', 'openclaw/denied', 'openclaw/missing'])),
      run('garbage'),
      run(JSON.stringify({ protocolVersion: 3, ids: ['openclaw/token'] })),
    ];
    for (const res of runs) {
      for (const secret of ALL_SECRETS) {
        expect(res.stderr).not.toContain(secret);
      }
    }
    const written = [...filesUnder(workDir), ...filesUnder(path.dirname(scriptPath))].filter((f) => f !== scriptPath);
    for (const file of written) {
      const text = fs.readFileSync(file, 'utf8');
      for (const secret of ALL_SECRETS) {
        expect(text).not.toContain(secret);
      }
    }
    expect(written).toEqual([]);
  });

  test('fits in 4 KB and starts with the configured interpreter line', () => {
    const src = OpenClawSecretResolver.scriptSource();
    expect(src.startsWith('#!/usr/bin/node\n')).toBe(true);
    expect(Buffer.byteLength(src, 'utf8')).toBeLessThanOrEqual(4096);
  });

  test('refuses a relative interpreter path', () => {
    expect(() => OpenClawSecretResolver.scriptSource({ nodePath: 'node' })).toThrow(
      "OpenClawConfig: secretResolver.nodePath must be an absolute path without spaces, got 'node'");
  });
});

describe('the resolver exec provider entry', () => {
  test('runs the installed script by absolute path with the allowlist, region and CLI path as arguments', () => {
    const entry = OpenClawSecretResolver.execProvider({
      allowedPrefixes: ['arn:aws:secretsmanager:eu-west-1:111122223333:secret:openclaw/'],
      region: 'eu-west-1',
      awsCliPath: '/usr/local/bin/aws',
      callTimeoutMs: 3000,
    });
    expect(entry).toEqual({
      name: 'aws-secrets-manager',
      command: '/opt/openclaw/bin/openclaw-secret-resolver',
      args: [
        '--allow-prefix', 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:openclaw/',
        '--region', 'eu-west-1',
        '--aws-cli', '/usr/local/bin/aws',
        '--timeout-ms', '3000',
      ],
      timeoutMs: 10000,
      jsonOnly: true,
      passEnv: ['AWS_REGION', 'AWS_DEFAULT_REGION'],
    });
  });

  test('the rendered provider arguments drive the real script', () => {
    const entry = OpenClawSecretResolver.execProvider({ allowedPrefixes: ['openclaw/tok'], awsCliPath: fakeAws });
    const res = run(request(['openclaw/token', 'openclaw/json']), entry.args);
    const out = JSON.parse(res.stdout);
    expect(out.values).toEqual({ 'openclaw/token': TOKEN });
    expect(out.errors['openclaw/json'].code).toBe('NOT_ALLOWED');
  });

  test('an empty allowlist fails naming secretResolver.allowedPrefixes', () => {
    expect(() => OpenClawSecretResolver.execProvider({ allowedPrefixes: [] })).toThrow(
      "OpenClawConfig: secretResolver.allowedPrefixes must be a non-empty list of secret name or ARN prefixes, got '[]'");
  });

  test('a prefix starting with - fails naming secretResolver.allowedPrefixes[0]', () => {
    expect(() => OpenClawSecretResolver.execProvider({ allowedPrefixes: ['--endpoint-url'] })).toThrow(/secretResolver\.allowedPrefixes\[0\]/);
  });

  test('a call timeout out of range fails naming secretResolver.callTimeoutMs', () => {
    expect(() => OpenClawSecretResolver.execProvider({ callTimeoutMs: 50 })).toThrow(
      "OpenClawConfig: secretResolver.callTimeoutMs must be an integer between 100 and 120000, got '50'");
  });

  test('a relative AWS CLI path fails naming secretResolver.awsCliPath', () => {
    expect(() => OpenClawSecretResolver.execProvider({ awsCliPath: 'aws' })).toThrow(/secretResolver\.awsCliPath/);
  });

  test('a relative install path fails when used by a config, naming secretResolver.command', () => {
    expect(() => new OpenClawConfig({ secretResolver: { installPath: 'bin/resolver' } })).toThrow(
      "OpenClawConfig: secretResolver.command must be an absolute path starting with '/' without '.' or '..' segments, got 'bin/resolver'");
  });

  test('a resolver timeout above 120000 ms fails naming secretResolver.timeoutMs', () => {
    expect(() => new OpenClawConfig({ secretResolver: { timeoutMs: 120_001 } })).toThrow(/secretResolver\.timeoutMs must be an integer between 1 and 120000/);
  });
});
