/**
 * The real OpenClaw CLI for the real-component tests, and the one substitution that turns the CloudFormation tokens
 * of a synthesized template into the values a deployment would give them (a region, an account, ARNs and names).
 */
import { execFile, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { installTool, toolsCache } from './servers';
import { SecureOpenClawHost } from '../../../src';

/** The region and account every token is deployed into. */
export const REGION = 'eu-central-1';
export const ACCOUNT = '123456789012';

/** Where the installed real OpenClaw lives: `node` (and the npm a host gets) on `nodeBin`, the CLI at `openclaw`. */
export interface OpenClawInstall {
  readonly nodeBin: string;
  readonly appDir: string;
  readonly openclaw: string;
}

/** The real OpenClaw at the version hosts install by default, with the Node.js NodeSource gives a host. */
export function openclawInstall(): OpenClawInstall {
  const [nodeDir, appDir] = installTool('openclaw', { OPENCLAW_VERSION: SecureOpenClawHost.DEFAULT_OPENCLAW_VERSION });
  return { nodeBin: path.join(nodeDir, 'bin'), appDir, openclaw: path.join(appDir, 'node_modules', '.bin', 'openclaw') };
}

/**
 * Replaces every CloudFormation token in a value (intrinsic functions, anywhere in a JSON tree) by what a
 * deployment to {@link REGION} and {@link ACCOUNT} would give it. A `Ref` or `Fn::GetAtt` is named after the
 * resource's type and logical id (secret ARNs end in the six-character suffix Secrets Manager adds, buckets are
 * lower case, file systems look like `fs-…`); `overrides` fixes the value of a logical id (or `id.Attribute`) a
 * test has made real, e.g. a secret created in an emulator. An intrinsic it does not know fails loudly.
 */
export function substituteTokens(value: any, template: any, overrides: Record<string, string> = {}): any {
  const resources = template.Resources ?? {};
  const sub = (v: any): any => {
    if (Array.isArray(v)) return v.map(sub);
    if (v === null || typeof v !== 'object') return v;
    const keys = Object.keys(v);
    if (keys.length === 1 && (keys[0] === 'Ref' || keys[0].startsWith('Fn::'))) return intrinsic(keys[0], v[keys[0]]);
    return Object.fromEntries(keys.map((k) => [k, sub(v[k])]));
  };
  const intrinsic = (fn: string, arg: any): any => {
    switch (fn) {
      case 'Ref': return ref(arg);
      case 'Fn::GetAtt': return getAtt(arg[0], arg[1]);
      case 'Fn::Join': return (sub(arg[1]) as any[]).join(arg[0]);
      case 'Fn::Select': return sub(arg[1])[Number(sub(arg[0]))];
      case 'Fn::Split': return String(sub(arg[1])).split(arg[0]);
      case 'Fn::Base64': return sub(arg);
      default: throw new Error(`substituteTokens: no deployment value for ${fn} ${JSON.stringify(arg)}`);
    }
  };
  const ref = (id: string): string => {
    if (overrides[id] !== undefined) return overrides[id];
    switch (id) {
      case 'AWS::Region': return REGION;
      case 'AWS::AccountId': return ACCOUNT;
      case 'AWS::Partition': return 'aws';
      case 'AWS::URLSuffix': return 'amazonaws.com';
      case 'AWS::StackName': return 'Test';
    }
    const type = resources[id]?.Type;
    if (!type) throw new Error(`substituteTokens: Ref to ${id}, which is no resource of the template`);
    const stem = id.replace(/[0-9A-F]{8}$/, '');
    switch (type) {
      case 'AWS::SecretsManager::Secret': return `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${stem}-a1B2c3`;
      case 'AWS::S3::Bucket': return `test-${id.toLowerCase()}-1x2y3z4w5v6u`;
      case 'AWS::Logs::LogGroup': return `Test-${id}-AbCdEfGh1234`;
      case 'AWS::EFS::FileSystem': return 'fs-0123456789abcdef0';
      case 'AWS::KMS::Key': return '1234abcd-12ab-34cd-56ef-1234567890ab';
      default: return `${stem.toLowerCase()}-0123456789abcdef0`;
    }
  };
  const getAtt = (id: string, attribute: string): string => {
    const key = `${id}.${attribute}`;
    if (overrides[key] !== undefined) return overrides[key];
    const type: string | undefined = resources[id]?.Type;
    if (!type) throw new Error(`substituteTokens: Fn::GetAtt of ${id}, which is no resource of the template`);
    const service = type.split('::')[1].toLowerCase();
    const name = `Test-${id.replace(/[0-9A-F]{8}$/, '')}-AbCdEf123456`;
    switch (attribute) {
      case 'Arn': switch (type) {
        case 'AWS::IAM::Role': return `arn:aws:iam::${ACCOUNT}:role/${name}`;
        case 'AWS::Lambda::Function': return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`;
        case 'AWS::KMS::Key': return `arn:aws:kms:${REGION}:${ACCOUNT}:key/${ref(id)}`;
        case 'AWS::S3::Bucket': return `arn:aws:s3:::${ref(id)}`;
        case 'AWS::Logs::LogGroup': return `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${ref(id)}:*`;
        case 'AWS::DynamoDB::Table': return `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${name}`;
        case 'AWS::SQS::Queue': return `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`;
        default: return `arn:aws:${service}:${REGION}:${ACCOUNT}:${id.toLowerCase()}`;
      }
      case 'DNSName': return `${id.toLowerCase().slice(0, 20)}-1234567890.${REGION}.elb.amazonaws.com`;
      case 'DomainName': return 'd1234567890abc.cloudfront.net';
      case 'CidrBlock': return '10.0.0.0/16';
      default: return `${id.toLowerCase()}-${attribute.toLowerCase()}`;
    }
  };
  return sub(value);
}

/** The setup script of the template's OpenClaw instance, with every token substituted (see {@link substituteTokens}). */
export function hostSetupScript(template: any, overrides: Record<string, string> = {}): string {
  const instance = Object.values<any>(template.Resources).find((r) => r.Type === 'AWS::EC2::Instance' && JSON.stringify(r.Properties.UserData ?? '').includes('openclaw'));
  if (!instance) throw new Error('no OpenClaw instance in the template');
  const userData: string = substituteTokens(instance.Properties.UserData, template, overrides);
  const start = userData.indexOf('#!/bin/bash\n');
  if (start < 0) throw new Error('no shell script in the user data');
  // The script is the last part of the multipart user data; cut the closing boundary if there is one.
  const end = userData.indexOf('\n--+AWS+CDK+User+Data+Separator==', start);
  return userData.slice(start, end < 0 ? undefined : end + 1);
}

/** The openclaw.json a setup script writes, as text. */
export function configOfScript(script: string): string {
  const match = /<<'OPENCLAW_CONFIG_EOF'\n([\s\S]*?)\nOPENCLAW_CONFIG_EOF/.exec(script);
  if (!match) throw new Error('no openclaw.json in the setup script');
  return match[1];
}

/** What `openclaw config validate --json` says about a file. */
export interface ValidationResult {
  readonly valid: boolean;
  readonly path?: string;
  readonly warnings?: unknown[];
  readonly [key: string]: unknown;
}

/**
 * Runs the real `openclaw config validate --json` on one file, in a state directory of its own under `workDir`
 * (HOME, OPENCLAW_STATE_DIR and OPENCLAW_CONFIG_PATH all point there, so nothing of the machine's is read).
 */
export async function validateConfig(
  install: OpenClawInstall, configFile: string, workDir: string, timeoutMs = 60_000,
): Promise<ValidationResult & { raw: string }> {
  const home = path.join(workDir, 'home');
  fs.mkdirSync(path.join(home, '.openclaw'), { recursive: true });
  const env = {
    PATH: `${install.nodeBin}:/usr/bin:/bin`,
    HOME: home,
    OPENCLAW_STATE_DIR: path.join(home, '.openclaw'),
    OPENCLAW_CONFIG_PATH: configFile,
    AWS_REGION: REGION,
    NO_COLOR: '1',
  };
  const { stdout, stderr, code } = await new Promise<{ stdout: string; stderr: string; code: number | null }>((resolve) => {
    execFile(install.openclaw, ['config', 'validate', '--json'], { env, cwd: workDir, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, out, err) => {
      resolve({ stdout: String(out), stderr: String(err), code: error ? (typeof error.code === 'number' ? error.code : null) : 0 });
    });
  });
  // One line when valid, pretty-printed when not: the document starts at the first line that opens an object.
  const start = stdout.search(/^\{/m);
  let parsed: any;
  try {
    parsed = JSON.parse(stdout.slice(start));
  } catch {
    throw new Error(`openclaw config validate printed no JSON (exit ${code}):\n${stdout}\n${stderr}`.slice(0, 4000));
  }
  return { ...parsed, raw: `${stdout}${stderr}`.trim() };
}

/** Runs `fn` over `items`, at most `limit` at a time, keeping the order of the results. */
export async function mapBounded<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** The npm NodeSource's Node.js 24 brings a host today. */
export const HOST_NPM_VERSION = '11.19.1';

/**
 * A directory with the host's npm as `npm`: the machine's own when it is that version, else npm@HOST_NPM_VERSION
 * installed once into the tools cache. It runs on whichever `node` comes first on PATH.
 */
export function hostNpmBin(): string {
  const own = spawnSync('npm', ['--version'], { encoding: 'utf8' });
  if (own.status === 0 && own.stdout.trim() === HOST_NPM_VERSION) {
    const which = spawnSync('bash', ['-c', 'dirname "$(command -v npm)"'], { encoding: 'utf8' });
    return which.stdout.trim();
  }
  const dir = path.join(toolsCache(), `npm-${HOST_NPM_VERSION}`);
  const cli = path.join(dir, 'node_modules', 'npm', 'bin', 'npm-cli.js');
  if (!fs.existsSync(cli)) {
    const out = spawnSync('npm', ['install', '--prefix', dir, '--no-fund', '--no-audit', '--no-save', `npm@${HOST_NPM_VERSION}`], { encoding: 'utf8', timeout: 5 * 60_000 });
    if (out.status !== 0) throw new Error(`could not install npm@${HOST_NPM_VERSION}: ${out.stderr}`);
  }
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin, { recursive: true });
  if (!fs.existsSync(path.join(bin, 'npm'))) fs.symlinkSync(cli, path.join(bin, 'npm'));
  return bin;
}
