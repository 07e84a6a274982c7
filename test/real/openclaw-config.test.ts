/**
 * Every openclaw.json the library renders, judged by the real `openclaw config validate` of the OpenClaw version
 * hosts install by default: valid, and without a single warning.
 *
 * The configurations are taken from what the constructs synthesize (the host's user data, a tenant's ConfigMap, the
 * self-service provisioner's environment), read at run time, so a change anywhere in the library is judged here.
 * Two mechanical substitutions, and nothing else, stand between the synthesized text and the file validated:
 *  - CloudFormation tokens become the values a deployment would give them (`substituteTokens`: region, account,
 *    secret ARNs, bucket and log group names);
 *  - an exec secret provider's directory (`command` and `trustedDirs`) is moved under the test's own directory, where
 *    the library's own rendered resolver script is installed (mode 0500), because `validate` checks that the command
 *    exists and is readable and the tests do not write to /opt.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import {
  ExecMode, GatewayBind, HostIngress, OpenClawConfig, SecureOpenClawHost, SecureOpenClawHostProps, ToolProfile,
} from '../../src';
import { configOfScript, hostSetupScript, mapBounded, openclawInstall, OpenClawInstall, substituteTokens, validateConfig } from './support/openclaw-cli';
import { removeDir, tempDir } from './support/servers';
import { OpenClawSecretResolver } from '../../src/openclaw/resolver/secret-resolver';
import { OpenClawTenantPlatform } from '../../src/platform/platform';
import { podResolverSource } from '../../src/platform/pod-secret-resolver';
import { provisionConfigFromEnvironment } from '../../src/platform/self-service/provision';
import { renderTenant } from '../../src/platform/tenant-manifests';
import { testApp } from '../util';

jest.setTimeout(15 * 60_000);

const DOMAIN = 'openclaw.example.com';
const CERT = 'arn:aws:acm:us-east-1:123456789012:certificate/0b1c2d3e-0000-4000-8000-000000000000';
/** A user's own exec provider (e.g. a Vault wrapper), as typical user additions name one. */
const VAULT_RESOLVER = '/usr/local/lib/openclaw/vault-resolver';
const VAULT_RESOLVER_SOURCE = '#!/bin/sh\nexec /usr/local/bin/vault-openclaw-bridge "$@"\n';

/** One configuration to validate: its text and the scripts its exec providers run. */
interface Case {
  readonly config: string;
  /** Absolute command paths of the configuration and the script installed at each. */
  readonly commands: Record<string, string>;
}

const HOST_RESOLVER = { [OpenClawSecretResolver.DEFAULT_INSTALL_PATH]: OpenClawSecretResolver.scriptSource() };

/** The openclaw.json a host's synthesized user data writes. */
function hostCase(props: (stack: Stack) => SecureOpenClawHostProps): Case {
  const stack = new Stack(testApp(), 'Test');
  new SecureOpenClawHost(stack, 'Host', props(stack));
  const template = Template.fromStack(stack).toJSON();
  return { config: configOfScript(hostSetupScript(template)), commands: HOST_RESOLVER };
}

/** A configuration on its own, rendered as the constructs render it (`renderJson`), tokens substituted. */
function standaloneCase(config: () => OpenClawConfig, commands: Record<string, string> = HOST_RESOLVER): Case {
  const stack = new Stack(testApp(), 'Test');
  return { config: substituteTokens(stack.resolve(config().renderJson(stack)), Template.fromStack(stack).toJSON()), commands };
}

const certificate = (stack: Stack) => acm.Certificate.fromCertificateArn(stack, 'Certificate', CERT);

/** The shapes; the platform's two tenant configurations are added once the platform is synthesized. */
const HOST_AND_STANDALONE: Array<[string, () => Case]> = [
  ['host, private (the default)', () => hostCase(() => ({}))],
  ['host, load balancer with WAF', () => hostCase((s) => ({
    ingress: HostIngress.loadBalancer({ domainName: DOMAIN, certificate: certificate(s), firewall: { blockedCountries: ['KP'] } }),
  }))],
  ['host, load balancer with Cognito (trusted-proxy auth)', () => hostCase((s) => ({
    ingress: HostIngress.loadBalancerWithCognito({ domainName: DOMAIN, certificate: certificate(s), cognitoDomainPrefix: 'example-openclaw' }),
  }))],
  ['host, CloudFront', () => hostCase((s) => ({ ingress: HostIngress.cloudFront({ domainName: DOMAIN, certificate: certificate(s) }) }))],
  ['host, the budget tier (public instance)', () => hostCase(() => ({ ingress: HostIngress.publicInstance({ allowedCidrs: ['203.0.113.0/24'] }) }))],
  ['host, agent data on EFS, Ollama, Anthropic and Telegram secrets (the largest shape)', () => hostCase(() => ({
    persistentAgentData: true,
    ollama: { version: 'v0.12.6', sha256: 'a'.repeat(64) },
    anthropicApiKey: true,
    telegramBotToken: true,
  }))],
  ['host, the README example (coding tools, exec ask, a us. model)', () => hostCase(() => ({
    config: new OpenClawConfig({
      tools: { profile: ToolProfile.CODING, execMode: ExecMode.ASK },
      bedrock: { primaryModel: { modelId: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0' } },
    }),
  }))],
  ['OpenClawConfig.hardenedDefaults() on its own', () => standaloneCase(() => OpenClawConfig.hardenedDefaults())],
  ['OpenClawConfig with typical user additions (Bedrock models, tools policy, a second secret provider)', () => standaloneCase(() => new OpenClawConfig({
    gateway: { bind: GatewayBind.LAN, trustedProxies: ['10.0.0.0/16'], controlUi: { allowedOrigins: [`https://${DOMAIN}`] } },
    bedrock: {
      region: 'us-east-1',
      primaryModel: { modelId: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', displayName: 'Claude Sonnet 4.5', reasoning: true, acceptsImages: true, contextWindow: 200000, maxTokens: 8192 },
      additionalModels: [{ modelId: 'us.amazon.nova-pro-v1:0', displayName: 'Nova Pro', contextWindow: 300000, maxTokens: 5000 }],
    },
    tools: { profile: ToolProfile.MINIMAL, alsoAllow: ['web_search'], deny: ['sessions_spawn'], fsWorkspaceOnly: true, execMode: ExecMode.DENY, elevatedEnabled: false },
    secretProviders: [{ name: 'vault', command: VAULT_RESOLVER, args: ['--mount', 'openclaw'], timeoutMs: 5000, jsonOnly: true, passEnv: ['VAULT_ADDR'] }],
  }), { ...HOST_RESOLVER, [VAULT_RESOLVER]: VAULT_RESOLVER_SOURCE })],
];

/** What shows that a validated file (compact JSON) is the shape its case is named after. */
const MARKS: Record<string, string> = {
  'host, private (the default)': '"bind":"loopback"',
  // gateway.tls is not a strict object in OpenClaw's schema (a misspelled key there validates): the mark pins it.
  'host, load balancer with WAF': '"tls":{"autoGenerate":true,"enabled":true}',
  'host, load balancer with Cognito (trusted-proxy auth)': '"mode":"trusted-proxy"',
  'host, CloudFront': '"trustedProxies"',
  'host, the budget tier (public instance)': '"tls":{"autoGenerate":true,"enabled":true}',
  'host, agent data on EFS, Ollama, Anthropic and Telegram secrets (the largest shape)': '"telegram"',
  'host, the README example (coding tools, exec ask, a us. model)': '"profile":"coding"',
  'OpenClawConfig.hardenedDefaults() on its own': '"source":"exec"',
  'OpenClawConfig with typical user additions (Bedrock models, tools policy, a second secret provider)': '"vault"',
  'tenant declared with addTenant (its ConfigMap)': '"basePath":"/t/acme"',
  'self-service tenant (as the provisioning function renders it)': '"basePath":"/t/u-3f9a2c"',
};

/**
 * The platform with self-service and one tenant declared in code: the tenant's ConfigMap as the construct applies it,
 * and a self-service tenant's as the provisioning function renders it from its own environment.
 */
function platformCases(): Array<[string, Case]> {
  const stack = new Stack(testApp(), 'Test');
  const platform = new OpenClawTenantPlatform(stack, 'Platform', {
    edge: { domainName: DOMAIN, certificate: certificate(stack) },
    selfService: { allowedEmailDomains: ['example.com'] },
  });
  const acme = platform.addTenant('acme');
  const template = Template.fromStack(stack).toJSON();
  const configMapJson = (objects: any[]) => objects.find((o) => o.kind === 'ConfigMap' && o.data?.['openclaw.json']).data['openclaw.json'];
  const declared = substituteTokens(stack.resolve(configMapJson(acme.manifests)), template);

  const provisioner = Object.values<any>(template.Resources).find((r) => r.Type === 'AWS::Lambda::Function'
    && String(r.Properties.Description ?? '').startsWith('OpenClaw self-service: provisions'));
  if (!provisioner) throw new Error('no provisioning function in the platform template');
  const settings = provisionConfigFromEnvironment(substituteTokens(provisioner.Properties.Environment.Variables, template));
  const selfService = configMapJson(renderTenant({ name: 'u-3f9a2c', ...settings.tenantDefaults }, settings.platformSpec).objects);

  const commands = { [OpenClawSecretResolver.DEFAULT_INSTALL_PATH]: podResolverSource() };
  return [
    ['tenant declared with addTenant (its ConfigMap)', { config: declared, commands }],
    ['self-service tenant (as the provisioning function renders it)', { config: selfService, commands }],
  ];
}

/** Writes a case's configuration with its exec provider directories moved under `dir`, installing their scripts. */
function materialize(c: Case, dir: string): string {
  let text = c.config;
  for (const [command, source] of Object.entries(c.commands)) {
    const relocated = path.join(dir, 'root', command);
    fs.mkdirSync(path.dirname(relocated), { recursive: true });
    fs.writeFileSync(relocated, source, { mode: 0o500 });
    text = text.split(path.dirname(command)).join(path.dirname(relocated));
  }
  const file = path.join(dir, 'openclaw.json');
  fs.writeFileSync(file, text, { mode: 0o600 });
  return file;
}

describe('every openclaw.json the library renders passes the real openclaw config validate, without warnings', () => {
  let install: OpenClawInstall;
  let work: string;
  const results = new Map<string, { valid: boolean; warnings?: unknown[]; raw: string }>();
  const texts = new Map<string, string>();
  const names = [...HOST_AND_STANDALONE.map(([n]) => n), 'tenant declared with addTenant (its ConfigMap)', 'self-service tenant (as the provisioning function renders it)'];

  beforeAll(async () => {
    install = openclawInstall();
    work = tempDir('config-validate');
    const cases: Array<[string, Case]> = [...HOST_AND_STANDALONE.map(([n, build]) => [n, build()] as [string, Case]), ...platformCases()];
    expect(cases.map(([n]) => n)).toEqual(names);
    // Each call takes a few seconds of CPU; two at a time on the two cores of a CI machine.
    await mapBounded(cases, 2, async ([name, c], i) => {
      const dir = path.join(work, `case-${i}`);
      fs.mkdirSync(dir, { recursive: true });
      const file = materialize(c, dir);
      texts.set(name, fs.readFileSync(file, 'utf8'));
      results.set(name, await validateConfig(install, file, dir));
    });
  });

  afterAll(() => {
    if (work) removeDir(work);
  });

  test.each(names)('%s', (name) => {
    const result = results.get(name)!;
    // The case is the shape it is named after (the validated file carries that shape's mark).
    expect(JSON.stringify(JSON.parse(texts.get(name)!))).toContain(MARKS[name]);
    expect({ name, valid: result.valid, warnings: result.warnings ?? [], output: result.valid ? '' : result.raw }).toEqual({ name, valid: true, warnings: [], output: '' });
  });

  test('the validator is no rubber stamp: a misspelled gateway key and a missing resolver are refused', async () => {
    const c = standaloneCase(() => OpenClawConfig.hardenedDefaults());
    const misspelled = path.join(work, 'misspelled');
    fs.mkdirSync(misspelled);
    const file = materialize({ ...c, config: c.config.replace('"bind"', '"bindAddress"') }, misspelled);
    const bad = await validateConfig(install, file, misspelled);
    expect(bad.valid).toBe(false);
    expect(bad.raw).toMatch(/bindAddress/);

    const noResolver = path.join(work, 'no-resolver');
    fs.mkdirSync(noResolver);
    const missing = await validateConfig(install, materialize({ ...c, commands: {} }, noResolver), noResolver);
    expect(missing.valid).toBe(false);
  });
});
