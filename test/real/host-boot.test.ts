/**
 * The host's setup script, run for real: the install, configure and start steps are taken from the user data that
 * `new SecureOpenClawHost(stack, 'Host')` synthesizes (cut into the script's own `log "..."` sections, never retyped)
 * and run with the Node.js and npm NodeSource gives a host today (Node 24.21.0, npm 11.19.1), up to a gateway that
 * answers /healthz.
 *
 * Mechanical substitutions, all in `relocate` and `substituteTokens`, and why:
 *  - CloudFormation tokens become deployment values (`substituteTokens`); the gateway token secret's ARN is the one
 *    the AWS emulator gave the secret the test created in it.
 *  - The host's absolute paths (/home/openclaw, /opt/openclaw, /var/log/openclaw, /etc/systemd/system, and the
 *    /usr/bin/node and /usr/bin/aws the embedded resolver runs) move under a temporary root: the test writes nothing
 *    outside its own directory. The compressed resolver is unpacked, relocated and packed again in the same way.
 *  - `-o openclaw -g openclaw` and `-o root -g root` are dropped from `install`: everything runs as the current user,
 *    who owns everything in the temporary root (chown to another user needs root).
 *  - `runuser` is a shim on PATH that runs its command as the current user with HOME set to the (relocated) home of
 *    the user it names, which is what runuser changes besides the user: there is no openclaw user on a test machine
 *    and creating one needs root.
 *
 * Not run (they need root and change the machine; their effects the steps below rely on are listed):
 *  - "start": the network wait for rpm.nodesource.com (the test machine is online or the install fails anyway);
 *  - "system packages": dnf install of the CloudWatch agent, jq, gnupg2, tar, zstd, openssl, git (jq and bash come
 *    from the test machine);
 *  - "Node.js 24 from NodeSource": key fingerprint check, rpm --import, the dnf repository and `dnf install nodejs`
 *    (replaced by Node 24.21.0 and npm 11.19.1 first on PATH, and /usr/bin/node relocated to that Node);
 *  - "openclaw user": useradd, the state and ~/.aws directories with their owner, the AWS CLI profile (the test
 *    creates the relocated home and state directory, mode 0700);
 *  - "daily state backup to S3": a script in /usr/local/sbin and two system units;
 *  - "system units": writing the units and systemctl daemon-reload/enable/restart (the gateway is started as the
 *    unit's ExecStart, Environment= and WorkingDirectory= say, by the test);
 *  - "CloudWatch agent": its configuration and amazon-cloudwatch-agent-ctl.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import * as zlib from 'zlib';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { SecureOpenClawHost } from '../../src';
import { testApp } from '../util';
import { EgressRecorder } from './support/gateway';
import { HOST_NPM_VERSION, hostNpmBin, hostSetupScript, openclawInstall, REGION } from './support/openclaw-cli';
import { freePort, installTool, removeDir, RunningServer, tempDir, toolsCache, waitFor } from './support/servers';

jest.setTimeout(20 * 60_000);

/** The host's paths that move under the temporary root. */
const RELOCATED = ['/home/openclaw', '/opt/openclaw', '/var/log/openclaw', '/etc/systemd/system', '/usr/bin/node', '/usr/bin/aws'];

/** The setup script with the host's paths under `root` and without ownership changes (see the file comment). */
function relocate(script: string, root: string): string {
  const move = (text: string) => RELOCATED.reduce((t, p) => t.split(p).join(`${root}${p}`), text)
    .replace(/ -o (openclaw|root) -g (openclaw|root)/g, '');
  // The resolver travels gzipped: unpack it, relocate its paths too, pack it again.
  const packed = /(<<'OPENCLAW_RESOLVER_EOF'[^\n]*\n)([\s\S]*?)(\nOPENCLAW_RESOLVER_EOF)/.exec(script);
  let out = script;
  if (packed) {
    const source = zlib.gunzipSync(Buffer.from(packed[2].replace(/\n/g, ''), 'base64')).toString('utf8');
    const repacked = zlib.gzipSync(move(source)).toString('base64').replace(/(.{76})/g, '$1\n').trimEnd();
    out = script.replace(packed[0], `${packed[1]}${repacked}${packed[3]}`);
  }
  return move(out);
}

/** The script cut at its `log "..."` lines: the preamble (up to the first) and each section by its title. */
function sections(script: string): { preamble: string; byTitle: Map<string, string> } {
  const lines = script.split('\n');
  const byTitle = new Map<string, string>();
  let title: string | undefined;
  let body: string[] = [];
  let preamble = '';
  const close = () => {
    if (title === undefined) preamble = body.join('\n');
    else byTitle.set(title, body.join('\n'));
  };
  let heredoc: string | undefined;
  for (const line of lines) {
    // A line inside a here-document is data, whatever it looks like.
    if (heredoc) {
      body.push(line);
      if (line === heredoc) heredoc = undefined;
      continue;
    }
    const start = /^log "([^"]*)"$/.exec(line);
    if (start) {
      close();
      title = start[1];
      body = [line];
      continue;
    }
    body.push(line);
    const opens = /<<'([A-Z_]+)'/.exec(line);
    if (opens) heredoc = opens[1];
  }
  close();
  return { preamble, byTitle };
}

/** The one section whose title starts with `prefix`. */
function section(cut: ReturnType<typeof sections>, prefix: string): string {
  const found = [...cut.byTitle.entries()].filter(([t]) => t.startsWith(prefix));
  if (found.length !== 1) throw new Error(`expected one section "${prefix}…", found: ${[...cut.byTitle.keys()].join(' | ')}`);
  return found[0][1];
}

/** The gateway's system unit as the script writes it. */
function gatewayUnit(script: string, root: string): { execStart: string[]; environment: Record<string, string>; workingDirectory: string } {
  const match = new RegExp(`cat > ${root}/etc/systemd/system/openclaw.service <<'OPENCLAW_UNIT_EOF'\\n([\\s\\S]*?)\\nOPENCLAW_UNIT_EOF`).exec(script);
  if (!match) throw new Error('no openclaw.service in the setup script');
  const lines = match[1].split('\n');
  const value = (key: string) => lines.filter((l) => l.startsWith(`${key}=`)).map((l) => l.slice(key.length + 1));
  const environment = Object.fromEntries(value('Environment').map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
  const [execStart] = value('ExecStart');
  const [workingDirectory] = value('WorkingDirectory');
  return { execStart: execStart.split(' '), environment, workingDirectory };
}

/** Runs a bash script (bounded), its output also appended to `logFile`; returns the exit status, the output and the time taken. */
function runBash(script: string, env: NodeJS.ProcessEnv, logFile: string, timeoutMs: number): { status: number | null; output: string; ms: number } {
  const started = Date.now();
  const result = spawnSync('bash', ['-c', script], { env, encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024 });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? `\n${result.error.message}` : ''}`;
  fs.appendFileSync(logFile, output);
  return { status: result.status, output, ms: Date.now() - started };
}

function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: 3000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

describe('the host setup script from the synthesized user data, run for real', () => {
  let work: string;
  let root: string;
  let script: string;
  let cut: ReturnType<typeof sections>;
  let env: NodeJS.ProcessEnv;
  let moto: RunningServer | undefined;
  let gateway: RunningServer | undefined;
  let egress: EgressRecorder | undefined;
  const logFile = () => path.join(work, 'setup-run.log');

  beforeAll(async () => {
    work = tempDir('host-boot');
    root = path.join(work, 'root');
    const { nodeBin } = openclawInstall();
    const [motoServer, awsCli] = installTool('moto');

    // The gateway token lives in Secrets Manager (the emulator); its ARN is the one the template's secret gets.
    const motoPort = await freePort();
    moto = await RunningServer.start({
      name: 'moto',
      command: motoServer,
      args: ['-H', '127.0.0.1', '-p', String(motoPort)],
      logFile: path.join(work, 'moto.log'),
      ready: async () => (await httpGet(`http://127.0.0.1:${motoPort}/moto-api/`).catch(() => ({ status: 0 }))).status > 0,
    });
    const awsEnv = { ...process.env, AWS_ENDPOINT_URL: `http://127.0.0.1:${motoPort}`, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_DEFAULT_REGION: REGION };
    const stack = new Stack(testApp(), 'Test');
    new SecureOpenClawHost(stack, 'Host');
    const template = Template.fromStack(stack).toJSON();
    const [tokenSecretId] = Object.entries<any>(template.Resources).find(([id, r]) => r.Type === 'AWS::SecretsManager::Secret' && /GatewayToken/.test(id))!;
    const created = spawnSync(awsCli, ['secretsmanager', 'create-secret', '--name', `openclaw/${tokenSecretId}`, '--secret-string', 'a-gateway-token-of-forty-characters-0123', '--output', 'json'], { env: awsEnv, encoding: 'utf8' });
    if (created.status !== 0) throw new Error(`could not create the gateway token secret in the emulator: ${created.stderr}`);
    const tokenArn = JSON.parse(created.stdout).ARN;

    script = relocate(hostSetupScript(template, { [tokenSecretId]: tokenArn }), root);
    cut = sections(script);

    // What the skipped root-only steps leave behind: the openclaw user's home and state directory; Node.js at
    // /usr/bin/node; the AWS CLI at /usr/bin/aws, with the instance role's credentials and the regional endpoint
    // (here the emulator's: the resolver runs with a scrubbed environment, so they are part of the program).
    fs.mkdirSync(path.join(root, 'home/openclaw/.openclaw'), { recursive: true, mode: 0o700 });
    fs.mkdirSync(path.join(root, 'usr/bin'), { recursive: true });
    fs.symlinkSync(path.join(nodeBin, 'node'), path.join(root, 'usr/bin/node'));
    fs.writeFileSync(path.join(root, 'usr/bin/aws'), [
      '#!/bin/sh',
      `export AWS_ENDPOINT_URL=http://127.0.0.1:${motoPort} AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing`,
      `exec ${awsCli} "$@"`,
      '',
    ].join('\n'), { mode: 0o755 });

    // runuser: the current user, with the named user's (relocated) home; see the file comment.
    const shims = path.join(work, 'shims');
    fs.mkdirSync(shims);
    fs.writeFileSync(path.join(shims, 'runuser'), [
      '#!/bin/bash',
      'set -euo pipefail',
      '[ "$1" = "-u" ] && [ "$3" = "--" ] || { echo "runuser shim: expected -u USER -- COMMAND" >&2; exit 2; }',
      'user="$2"; shift 3',
      `HOME="${root}/home/$user" USER="$user" LOGNAME="$user" exec "$@"`,
      '',
    ].join('\n'), { mode: 0o755 });

    env = {
      ...process.env,
      HOME: path.join(work, 'root-home'),
      PATH: `${shims}:${nodeBin}:${hostNpmBin()}:/usr/local/bin:/usr/bin:/bin`,
      // One npm cache per machine (the tools cache), so a second run installs from it.
      npm_config_cache: path.join(toolsCache(), 'npm-cache'),
      // npm 12 blocks an unlisted dependency's install script; npm 11.19 runs it with a notice unless strict.
      // Strict here makes "every install script is listed in allowScripts" part of what this test proves.
      npm_config_strict_allow_scripts: 'true',
      npm_config_update_notifier: 'false',
    };
    delete env.npm_config_userconfig;
    fs.mkdirSync(env.HOME!, { recursive: true });
  });

  afterAll(async () => {
    await gateway?.stop();
    await egress?.stop();
    await moto?.stop();
    if (work) removeDir(work);
  });

  test(`the host's npm is ${HOST_NPM_VERSION} on Node 24.21.0`, () => {
    const versions = spawnSync('bash', ['-c', 'node --version; npm --version'], { env, encoding: 'utf8' });
    expect(versions.stdout.trim().split('\n')).toEqual(['v24.21.0', HOST_NPM_VERSION]);
  });

  test('npm refuses the setup script\'s former command (--allow-scripts in the app directory) with EALLOWSCRIPTS', () => {
    // The command the setup script ran before this fix, kept here as the regression it was.
    const dir = path.join(work, 'former');
    fs.mkdirSync(dir);
    const former = `cd ${dir}; [ -f package.json ] || npm init -y >/dev/null; npm install --no-fund --no-audit --save-exact --allow-scripts=openclaw openclaw@${SecureOpenClawHost.DEFAULT_OPENCLAW_VERSION}`;
    const run = runBash(former, env, logFile(), 120_000);
    expect(run.status).not.toBe(0);
    expect(run.output).toMatch(/EALLOWSCRIPTS/);
  });

  test('the install section installs OpenClaw as the openclaw user, every install script covered by allowScripts', () => {
    const install = section(cut, 'OpenClaw ');
    const run = runBash(`${cut.preamble}\n${install}\n`, env, logFile(), 10 * 60_000);
    if (run.status !== 0) throw new Error(`the install section failed (exit ${run.status}):\n${run.output.slice(-4000)}`);
    const app = path.join(root, 'home/openclaw/openclaw-app');
    expect(fs.existsSync(path.join(app, 'node_modules/.bin/openclaw'))).toBe(true);
    // npm's own account of the policy: nothing with an install script is left unreviewed.
    const ls = spawnSync('bash', ['-c', `cd ${app} && npm install-scripts ls`], { env: { ...env, HOME: path.join(root, 'home/openclaw') }, encoding: 'utf8' });
    expect(`${ls.stdout}${ls.stderr}`).toMatch(/No packages with unreviewed install scripts/);
    // OpenClaw's postinstall ran (it removes the lifecycle marker) and koffi, whose script was skipped, loads its prebuilt binary.
    expect(fs.existsSync(path.join(app, 'node_modules/openclaw/.openclaw-lifecycle-pending'))).toBe(false);
    const koffi = spawnSync('node', ['-e', "require('koffi'); process.stdout.write('loaded')"], { cwd: app, env, encoding: 'utf8' });
    expect(koffi.stdout).toBe('loaded');
    console.log(`install section: ${Math.round(run.ms / 1000)} s`);
  });

  test('the install section is idempotent: run again (as on every boot) it succeeds and changes nothing', () => {
    const app = path.join(root, 'home/openclaw/openclaw-app');
    const before = fs.readFileSync(path.join(app, 'package-lock.json'), 'utf8');
    const run = runBash(`${cut.preamble}\n${section(cut, 'OpenClaw ')}\n`, env, logFile(), 5 * 60_000);
    if (run.status !== 0) throw new Error(`the second install failed (exit ${run.status}):\n${run.output.slice(-4000)}`);
    expect(run.output).toMatch(/up to date/);
    expect(fs.readFileSync(path.join(app, 'package-lock.json'), 'utf8')).toBe(before);
    console.log(`second install: ${Math.round(run.ms / 1000)} s`);
  });

  test('the configure sections install the resolver and an openclaw.json OpenClaw accepts; the gateway starts as the unit says and is healthy', async () => {
    const configure = section(cut, 'openclaw.json');
    const resolver = section(cut, 'exec secret resolver');
    const run = runBash(`${cut.preamble}\n${resolver}\n${configure}\n`, env, logFile(), 60_000);
    if (run.status !== 0) throw new Error(`the configure sections failed (exit ${run.status}):\n${run.output.slice(-4000)}`);
    const config = path.join(root, 'home/openclaw/.openclaw/openclaw.json');
    expect((fs.statSync(config).mode % 0o1000).toString(8)).toBe('600');
    expect(fs.existsSync(`${config}.new`)).toBe(false);

    const unit = gatewayUnit(script, root);
    const port = await freePort();
    const [command, ...args] = unit.execStart;
    expect(command).toBe(path.join(root, 'home/openclaw/openclaw-app/node_modules/.bin/openclaw'));
    const portAt = args.indexOf('--port');
    expect(portAt).toBeGreaterThan(0);
    args[portAt + 1] = String(port);
    // The tests reach no network but the machine's own addresses: what the gateway and the npm it spawns try to
    // fetch at start (the Bedrock provider plugin, see docs/hardened-defaults.md) goes to a recorder that refuses it.
    egress = await EgressRecorder.start();
    const proxy = `http://127.0.0.1:${egress.port}`;
    gateway = await RunningServer.start({
      name: 'openclaw gateway',
      command,
      args,
      cwd: unit.workingDirectory,
      // systemd's environment: its default PATH (with /usr/bin relocated first) and the unit's Environment= lines.
      env: {
        PATH: `${root}/usr/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin`,
        ...unit.environment,
        OPENCLAW_PROXY_URL: proxy,
        npm_config_proxy: proxy,
        npm_config_https_proxy: proxy,
      },
      logFile: path.join(work, 'gateway.log'),
      readyTimeoutMs: 240_000,
      ready: async () => (await httpGet(`http://127.0.0.1:${port}/healthz`).catch(() => ({ status: 0 }))).status === 200,
    });
    const health = await waitFor('/healthz', 10_000, async () => httpGet(`http://127.0.0.1:${port}/healthz`));
    expect(health.status).toBe(200);
    expect(gateway.running).toBe(true);
  });

  test('a configuration the installed OpenClaw refuses fails the configure section, and the running one stays', () => {
    const config = path.join(root, 'home/openclaw/.openclaw/openclaw.json');
    const good = fs.readFileSync(config, 'utf8');
    const configure = section(cut, 'openclaw.json');
    // Well-formed JSON (jq passes it) with a key OpenClaw's schema does not have.
    const refused = configure.replace('"bind":', '"bindAddress":');
    expect(refused).not.toBe(configure);
    const run = runBash(`${cut.preamble}\n${refused}\n`, env, logFile(), 60_000);
    expect(run.status).not.toBe(0);
    expect(run.output).toMatch(/Unrecognized key: "bindAddress"/);
    expect(run.output).toMatch(/refused by OpenClaw .*; the previous one stays/);
    expect(fs.readFileSync(config, 'utf8')).toBe(good);
    expect(gateway?.running).toBe(true);
  });
});
