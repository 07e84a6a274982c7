import { SecureOpenClawHost } from '../../src';
import { renderAppPackageJson, renderGatewayUnit, renderSetupScript, NODESOURCE_KEY_FINGERPRINT } from '../../src/host/boot';
import { OpenClawSecretResolver } from '../../src/openclaw/resolver/secret-resolver';
import { synthHost } from '../util';

const options = {
  openClawVersion: '2026.9.6',
  nodeMajorVersion: 24,
  region: 'eu-central-1',
  gatewayPort: 18789,
  configJson: '{"gateway":{"mode":"local"}}',
  resolverScript: OpenClawSecretResolver.scriptSource(),
  resolverPath: OpenClawSecretResolver.DEFAULT_INSTALL_PATH,
  logGroupName: 'openclaw-logs',
  backupBucketName: 'openclaw-backups',
};

describe('boot configuration', () => {
  test('the rendered setup script matches its snapshot', () => {
    expect(renderSetupScript(options)).toMatchSnapshot();
  });

  test('the rendered system unit matches its snapshot', () => {
    expect(renderGatewayUnit({ gatewayPort: 18789, region: 'eu-central-1' })).toMatchSnapshot();
  });

  test('the unit runs OpenClaw as its own user in a sandbox that sees only its home', () => {
    const unit = renderGatewayUnit({ gatewayPort: 18789, region: 'eu-central-1' });
    for (const line of ['User=openclaw', 'NoNewPrivileges=true', 'ProtectSystem=strict', 'ProtectHome=tmpfs', 'BindPaths=/home/openclaw',
      'PrivateTmp=true', 'Restart=always', 'RestartPreventExitStatus=78']) {
      expect(unit.split('\n')).toContain(line);
    }
  });

  test('Node.js comes from NodeSource with the signing key checked against the pinned fingerprint before import', () => {
    const script = renderSetupScript(options);
    const check = script.indexOf(`if [ "$fpr" != "${NODESOURCE_KEY_FINGERPRINT}" ]`);
    const imported = script.indexOf('rpm --import');
    expect(check).toBeGreaterThan(0);
    expect(imported).toBeGreaterThan(check);
    expect(script).toContain('gpgcheck=1');
    expect(script).not.toMatch(/curl[^\n]*\|\s*(ba)?sh/);
  });

  test('OpenClaw is installed by the openclaw user at the pinned version, never as root or with -g', () => {
    const script = renderSetupScript(options);
    const install = script.split('\n').find((l) => l.includes('npm install'))!;
    expect(install).toMatch(/^runuser -u openclaw -- /);
    expect(install).not.toMatch(/\s-g\s|--global/);
    // npm 11.19+ refuses --allow-scripts in a project (EALLOWSCRIPTS): the policy is in the app's package.json.
    expect(script).not.toContain('--allow-scripts');
    expect(script).not.toContain('npm init');
    const written = /^runuser -u openclaw -- tee \/home\/openclaw\/openclaw-app\/package.json >\/dev\/null <<'OPENCLAW_PACKAGE_EOF'\n(.*)\nOPENCLAW_PACKAGE_EOF$/m.exec(script);
    expect(written).not.toBeNull();
    expect(script.indexOf(written![0])).toBeLessThan(script.indexOf(install));
    expect(JSON.parse(written![1])).toEqual(JSON.parse(renderAppPackageJson('2026.9.6')));
  });

  test("the app's package.json pins OpenClaw exactly and lets only OpenClaw's own install scripts run", () => {
    const pkg = JSON.parse(renderAppPackageJson('2026.9.6'));
    expect(pkg.dependencies).toEqual({ openclaw: '2026.9.6' });
    expect(pkg.allowScripts).toEqual({ 'openclaw': true, 'koffi': false, 'protobufjs': false, '@google/genai': false });
    expect(pkg.private).toBe(true);
  });

  test('openclaw.json is validated with jq before the gateway starts', () => {
    const script = renderSetupScript(options);
    expect(script.indexOf('jq empty')).toBeGreaterThan(0);
    expect(script.indexOf('jq empty')).toBeLessThan(script.indexOf('systemctl restart openclaw.service'));
  });

  test('openclaw.json is validated by the installed OpenClaw, as the gateway user, before it replaces the running one', () => {
    const script = renderSetupScript(options);
    const validate = script.indexOf('runuser -u openclaw -- env OPENCLAW_STATE_DIR=/home/openclaw/.openclaw OPENCLAW_CONFIG_PATH=/home/openclaw/.openclaw/openclaw.json.new /home/openclaw/openclaw-app/node_modules/.bin/openclaw config validate; then');
    expect(validate).toBeGreaterThan(script.indexOf('npm install'));
    // It checks the exec resolver's command, so the resolver is installed first.
    expect(validate).toBeGreaterThan(script.indexOf(`${OpenClawSecretResolver.DEFAULT_INSTALL_PATH}.new ${OpenClawSecretResolver.DEFAULT_INSTALL_PATH}`));
    expect(validate).toBeLessThan(script.indexOf('install -m 0600 -o openclaw -g openclaw /home/openclaw/.openclaw/openclaw.json.new /home/openclaw/.openclaw/openclaw.json'));
  });

  test('the resolver is installed owned by the gateway user and writable by nobody else', () => {
    expect(renderSetupScript(options)).toContain(`install -m 0500 -o openclaw -g openclaw ${OpenClawSecretResolver.DEFAULT_INSTALL_PATH}.new`);
  });

  test('Ollama is verified by SHA-256 before it is unpacked, and listens on loopback only', () => {
    const script = renderSetupScript({ ...options, ollama: { version: 'v0.12.6', sha256: 'a'.repeat(64), arch: 'amd64' } });
    const check = script.indexOf(`echo "${'a'.repeat(64)}  $tmp/ollama.tar.zst" | sha256sum --check --strict`);
    expect(check).toBeGreaterThan(0);
    expect(script.indexOf('tar --use-compress-program=unzstd')).toBeGreaterThan(check);
    expect(script).toContain('Environment=OLLAMA_HOST=127.0.0.1:11434');
  });

  test('user data of the largest shape stays under the 16 KB EC2 limit, even with long token values', () => {
    const { userData } = synthHost(undefined, () => ({
      persistentAgentData: true,
      anthropicApiKey: true,
      telegramBotToken: true,
      ollama: { version: 'v0.12.6', sha256: 'a'.repeat(64) },
    }));
    const tokens = userData.split('${TOKEN}').length - 1;
    // An ARN of a secret or bucket name resolved at deploy time is well under 120 characters.
    expect(Buffer.byteLength(userData) + tokens * 120).toBeLessThan(16 * 1024);
  });

  test('the default OpenClaw version is an exact release', () => {
    expect(SecureOpenClawHost.DEFAULT_OPENCLAW_VERSION).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
