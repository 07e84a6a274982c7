/**
 * The real OpenClaw gateway, started from what the library renders for a host: the openclaw.json, the exec secret
 * resolver and the systemd unit's environment are all taken from the user data of a synthesized
 * `SecureOpenClawHost`, so the tests judge the library's output, not a hand-written copy of it.
 *
 * What is substituted, and why (nothing else is changed):
 * - CloudFormation tokens: `AWS::Region` → us-east-1, `AWS::URLSuffix` → amazonaws.com, the gateway token
 *   secret's `Ref` (its ARN) → the ARN of the same secret created in a moto Secrets Manager on 127.0.0.1.
 *   Any other token left in the config fails the start: the config must not depend on one we did not resolve.
 * - Paths: the host's /home/openclaw and /opt/openclaw/bin become directories under one temporary directory
 *   (we may not write the machine's /home or /opt); the modes are the host's (state 0700, config 0600, resolver
 *   0500 owned by the user running the gateway, in a 0755 directory).
 * - The resolver's `#!` line: the host's /usr/bin/node is NodeSource's Node 24; here that is the cached Node 24.
 * - The resolver provider's AWS access: the host's resolver calls /usr/bin/aws (AWS CLI v2) with the instance
 *   role from IMDS, which needs no environment. Here `--aws-cli` names the PyPI AWS CLI, and `passEnv` also
 *   passes `AWS_ENDPOINT_URL` (the moto server) and moto's dummy keys.
 * - The listener: `gateway.port` and the unit's `--port` become a free port. A `lan` bind (0.0.0.0, the load
 *   balancer shapes) becomes `loopback`: the tests may only listen on 127.0.0.0/8.
 * - Addresses: the load balancer shapes trust their VPC subnets (10.x.y.z/n). The tests map the VPC's 10/8 plan onto
 *   127/8 by swapping the first octet, so a load balancer at 10.0.0.10 is the proxy at 127.0.0.10 and another
 *   instance at 10.0.2.10 is the client at 127.0.2.10; any other entry (0.0.0.0/0, say) is kept as rendered.
 *   Because every 127/8 source is loopback to OpenClaw, `trustedProxy.allowLoopback` is set (OpenClaw refuses a
 *   loopback proxy without it; on the host the load balancer is not loopback, so the host needs no such opt-in).
 * - The gateway's own egress goes through OPENCLAW_PROXY_URL to a recorder on 127.0.0.1 that refuses every
 *   request and remembers where it was going: the tests can see update checks and downloads without any network.
 *   The npm processes the gateway spawns (plugin installs) ignore that variable; `npm_config_https_proxy` sends them
 *   to a second recorder, so what npm tried is seen apart from what the gateway itself tried.
 */
import { execFile, execFileSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import * as https from 'https';
import * as net from 'net';
import * as path from 'path';
import * as zlib from 'zlib';
import { Stack } from 'aws-cdk-lib';
import { RunningServer, freePort, installTool, removeDir, tempDir } from './servers';
import { SecureOpenClawHost, SecureOpenClawHostProps } from '../../../src';
import { synthHost } from '../../util';

export const TEST_REGION = 'us-east-1';

export interface RealGatewayOptions {
  /** A short name for temporary directories and logs. */
  readonly name: string;
  /** The host's props, built in the stack the host is synthesized in. @default - a host with no props */
  readonly host?: (stack: Stack) => SecureOpenClawHostProps;
}

/** One HTTP answer. */
export interface HttpAnswer {
  readonly status: number;
  readonly body: string;
}

interface GatewayParts {
  readonly port: number;
  readonly token: string;
  readonly secretArn: string;
  readonly config: any;
  readonly configPath: string;
  readonly stateDir: string;
  readonly env: NodeJS.ProcessEnv;
  readonly tls: boolean;
  readonly base: string;
  readonly appDir: string;
  readonly awsCli: string;
  readonly awsEnv: Record<string, string>;
  readonly resolverPath: string;
}

/** A real gateway running the library's rendered configuration, with its moto Secrets Manager and egress recorder. */
export class RealGateway {
  public static async start(options: RealGatewayOptions): Promise<RealGateway> {
    const [nodeDir, appDir] = installTool('openclaw', { OPENCLAW_VERSION: SecureOpenClawHost.DEFAULT_OPENCLAW_VERSION });
    const [motoServer, awsCli] = installTool('moto');
    const dir = tempDir(`gateway-${options.name}`);
    const servers: Array<{ stop(): Promise<void> }> = [];
    try {
      const motoPort = await freePort();
      const moto = await RunningServer.start({
        name: 'moto',
        command: motoServer,
        args: ['-H', '127.0.0.1', '-p', String(motoPort)],
        ready: async () => (await httpGet(`http://127.0.0.1:${motoPort}/moto-api/`)).status < 500,
        readyTimeoutMs: 60_000,
        logFile: path.join(dir, 'moto.log'),
      });
      servers.push(moto);
      const awsEnv = {
        AWS_ENDPOINT_URL: `http://127.0.0.1:${motoPort}`,
        AWS_ACCESS_KEY_ID: 'testing',
        AWS_SECRET_ACCESS_KEY: 'testing',
      };

      // The host's gateway token: 48 letters and digits (GenerateSecretString without punctuation).
      const token = crypto.randomBytes(48).toString('base64').replace(/[^A-Za-z0-9]/g, '').slice(0, 48);
      const created = JSON.parse(execFileSync(awsCli, ['secretsmanager', 'create-secret', '--name', `HostGatewayToken-${options.name}`,
        '--secret-string', token, '--region', TEST_REGION, '--output', 'json'], {
        env: { PATH: process.env.PATH, HOME: dir, ...awsEnv }, encoding: 'utf8', timeout: 60_000,
      }));
      const secretArn: string = created.ARN;

      const synth = synthHost(undefined, options.host ?? (() => ({})));
      const userData = resolvedUserData(synth.json, secretArn);
      const port = await freePort();
      const home = path.join(dir, 'home');
      const stateDir = path.join(home, '.openclaw');
      const configPath = path.join(stateDir, 'openclaw.json');
      const resolverPath = path.join(dir, 'opt', 'openclaw', 'bin', 'openclaw-secret-resolver');
      fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
      fs.chmodSync(stateDir, 0o700);
      // The host's ~/.aws/config: the default profile with the region (AWS_PROFILE=default in the unit).
      fs.mkdirSync(path.join(home, '.aws'), { mode: 0o700 });
      fs.writeFileSync(path.join(home, '.aws', 'config'), `[default]\nregion = ${TEST_REGION}\n`, { mode: 0o600 });

      const rendered = heredoc(userData, 'OPENCLAW_CONFIG_EOF');
      const config = JSON.parse(rendered);
      adjustConfig(config, { port, resolverPath, awsCli });
      fs.writeFileSync(configPath, JSON.stringify(config, null, 2), { mode: 0o600 });

      const resolver = zlib.gunzipSync(Buffer.from(heredoc(userData, 'OPENCLAW_RESOLVER_EOF', /base64 -d <<'OPENCLAW_RESOLVER_EOF'[^\n]*\n/).replace(/\s+/g, ''), 'base64')).toString('utf8');
      if (!resolver.startsWith('#!/usr/bin/node\n')) throw new Error('the host installs a resolver that does not start with #!/usr/bin/node');
      fs.mkdirSync(path.dirname(resolverPath), { recursive: true, mode: 0o755 });
      fs.writeFileSync(resolverPath, resolver.replace(/^#!\/usr\/bin\/node\n/, `#!${path.join(nodeDir, 'bin', 'node')}\n`), { mode: 0o500 });
      fs.chmodSync(resolverPath, 0o500);

      const egress = await EgressRecorder.start();
      servers.push(egress);
      const npmEgress = await EgressRecorder.start();
      servers.push(npmEgress);

      const unit = unitEnvironment(userData);
      const env: NodeJS.ProcessEnv = {
        ...unit,
        HOME: home,
        OPENCLAW_STATE_DIR: stateDir,
        OPENCLAW_CONFIG_PATH: configPath,
        PATH: `${path.join(nodeDir, 'bin')}:/usr/local/bin:/usr/bin:/bin`,
        TMPDIR: path.join(dir, 'tmp'),
        OPENCLAW_PROXY_URL: `http://127.0.0.1:${egress.port}`,
        npm_config_proxy: `http://127.0.0.1:${npmEgress.port}`,
        npm_config_https_proxy: `http://127.0.0.1:${npmEgress.port}`,
        ...awsEnv,
      };
      fs.mkdirSync(env.TMPDIR!, { recursive: true });
      const tls = config.gateway?.tls?.enabled === true;
      const base = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
      const gateway = await RunningServer.start({
        name: 'openclaw gateway',
        command: path.join(appDir, 'node_modules', '.bin', 'openclaw'),
        args: unitGatewayArgs(userData, port),
        env,
        cwd: home,
        ready: async () => (await httpGet(`${base}/healthz`)).status === 200,
        readyTimeoutMs: 240_000,
        logFile: path.join(dir, 'gateway.log'),
      });
      servers.push(gateway);
      return new RealGateway(dir, servers, gateway, egress, npmEgress, {
        port, token, secretArn, config, configPath, stateDir, env, tls, base, appDir, awsCli, awsEnv, resolverPath,
      });
    } catch (e) {
      for (const s of servers.reverse()) await s.stop();
      removeDir(dir);
      throw e;
    }
  }

  public readonly port: number;
  /** The gateway token as stored in the Secrets Manager stand-in (the resolver's answer). */
  public readonly token: string;
  public readonly secretArn: string;
  /** The openclaw.json the gateway runs (the library's, with the substitutions above). */
  public readonly config: any;
  public readonly configPath: string;
  public readonly stateDir: string;
  public readonly env: NodeJS.ProcessEnv;
  public readonly tls: boolean;
  /** `http(s)://127.0.0.1:<port>`. */
  public readonly baseUrl: string;
  public readonly resolverPath: string;
  private readonly appDir: string;
  private readonly awsCli: string;
  private readonly awsEnv: Record<string, string>;

  private constructor(
    public readonly dir: string,
    private readonly servers: Array<{ stop(): Promise<void> }>,
    private readonly gateway: RunningServer,
    /** Where the gateway's own HTTP clients tried to go. */
    public readonly egress: EgressRecorder,
    /** Where the npm processes the gateway spawned tried to go. */
    public readonly npmEgress: EgressRecorder,
    p: GatewayParts,
  ) {
    this.port = p.port;
    this.token = p.token;
    this.secretArn = p.secretArn;
    this.config = p.config;
    this.configPath = p.configPath;
    this.stateDir = p.stateDir;
    this.env = p.env;
    this.tls = p.tls;
    this.baseUrl = p.base;
    this.appDir = p.appDir;
    this.awsCli = p.awsCli;
    this.awsEnv = p.awsEnv;
    this.resolverPath = p.resolverPath;
  }

  /** The gateway's process id (the leader of its process group). */
  public get pid(): number {
    return this.gateway.pid;
  }

  public get running(): boolean {
    return this.gateway.running;
  }

  public logTail(lines = 60): string {
    return this.gateway.logTail(lines);
  }

  /** The gateway's whole log so far. */
  public log(): string {
    try {
      return fs.readFileSync(this.gateway.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  /** GET (or another method) on the gateway. */
  public request(pathname: string, options: HttpOptions = {}): Promise<HttpAnswer> {
    return httpGet(`${this.baseUrl}${pathname}`, options);
  }

  /** Opens a WebSocket to the gateway and performs the connect handshake. */
  public connect(options: Omit<ConnectOptions, 'port' | 'tls'> = {}): Promise<ConnectResult> {
    return connectGateway({ ...options, port: this.port, tls: this.tls });
  }

  /** Runs the real `openclaw` CLI with the gateway's environment (same HOME, state directory and config). */
  public openclaw(args: string[], timeoutMs = 180_000): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(path.join(this.appDir, 'node_modules', '.bin', 'openclaw'), args, {
        env: this.env, cwd: this.env.HOME, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, killSignal: 'SIGKILL',
      }, (e: any, stdout, stderr) => {
        resolve({ code: e ? (typeof e.code === 'number' ? e.code : -1) : 0, stdout: String(stdout), stderr: String(stderr) });
      });
    });
  }

  /** Replaces the token in the Secrets Manager stand-in (what a rotation does). */
  public putSecretValue(value: string): void {
    execFileSync(this.awsCli, ['secretsmanager', 'put-secret-value', '--secret-id', this.secretArn, '--secret-string', value, '--region', TEST_REGION], {
      env: { PATH: process.env.PATH, HOME: this.dir, ...this.awsEnv }, encoding: 'utf8', timeout: 60_000,
    });
  }

  /**
   * Every socket the gateway's processes listen on (TCP and UDP), as `proto local-address:port`, read with `ss`
   * and kept when its owning pid is in the gateway's process group.
   */
  public listeningSockets(): string[] {
    const group = new Set(execFileSync('ps', ['-e', '-o', 'pid=,pgid='], { encoding: 'utf8' }).split('\n')
      .map((l) => l.trim().split(/\s+/)).filter((f) => f.length === 2 && Number(f[1]) === this.pid).map((f) => Number(f[0])));
    group.add(this.pid);
    const out = execFileSync('ss', ['-H', '-l', '-n', '-p', '-t', '-u'], { encoding: 'utf8' });
    const sockets: string[] = [];
    for (const line of out.split('\n')) {
      const pids = [...line.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1]));
      if (!pids.some((p) => group.has(p))) continue;
      const f = line.trim().split(/\s+/);
      sockets.push(`${f[0]} ${f[4]}`);
    }
    return [...new Set(sockets)].sort();
  }

  public async stop(): Promise<void> {
    for (const s of [...this.servers].reverse()) await s.stop();
    removeDir(this.dir);
  }
}

/** The user data with each CloudFormation token replaced by a real value (see the header for which). */
function resolvedUserData(template: any, secretArn: string): string {
  const resources = template.Resources as Record<string, any>;
  const instance = Object.values(resources).find((r: any) => r.Type === 'AWS::EC2::Instance' && JSON.stringify(r.Properties.UserData ?? '').includes('openclaw'));
  if (!instance) throw new Error('no OpenClaw instance in the template');
  const tokenSecrets = Object.entries(resources)
    .filter(([, r]) => r.Type === 'AWS::SecretsManager::Secret' && r.Properties?.Description === 'OpenClaw gateway token')
    .map(([id]) => id);
  const b64 = instance.Properties.UserData['Fn::Base64'];
  const parts: any[] = typeof b64 === 'string' ? [b64] : b64['Fn::Join'][1];
  return parts.map((p) => {
    if (typeof p === 'string') return p;
    const ref = p.Ref;
    if (ref === 'AWS::Region') return TEST_REGION;
    if (ref === 'AWS::URLSuffix') return 'amazonaws.com';
    if (ref !== undefined && tokenSecrets.includes(ref)) return secretArn;
    return `<unresolved ${JSON.stringify(p)}>`;
  }).join('');
}

/** The body of a `<<'MARK'` here-document of the user data. */
function heredoc(userData: string, mark: string, opener = new RegExp(`<<'${mark}'\\n`)): string {
  const start = opener.exec(userData);
  if (!start) throw new Error(`no ${mark} here-document in the user data`);
  const from = start.index + start[0].length;
  const end = userData.indexOf(`\n${mark}\n`, from);
  if (end < 0) throw new Error(`unterminated ${mark} here-document in the user data`);
  const body = userData.slice(from, end);
  if (body.includes('<unresolved')) {
    throw new Error(`the ${mark} here-document depends on a CloudFormation token the tests do not resolve: ${/<unresolved [^>]*>/.exec(body)![0]}`);
  }
  return body;
}

/** The `Environment=` lines of the gateway's systemd unit. */
function unitEnvironment(userData: string): Record<string, string> {
  const unit = heredoc(userData, 'OPENCLAW_UNIT_EOF', /cat > \/etc\/systemd\/system\/openclaw\.service <<'OPENCLAW_UNIT_EOF'\n/);
  const env: Record<string, string> = {};
  for (const m of unit.matchAll(/^Environment=([A-Z_][A-Z0-9_]*)=(.*)$/gm)) env[m[1]] = m[2];
  return env;
}

/** The arguments of the unit's `ExecStart` after the executable, with the port replaced. */
function unitGatewayArgs(userData: string, port: number): string[] {
  const unit = heredoc(userData, 'OPENCLAW_UNIT_EOF', /cat > \/etc\/systemd\/system\/openclaw\.service <<'OPENCLAW_UNIT_EOF'\n/);
  const exec = /^ExecStart=(\S+) (.*)$/m.exec(unit);
  if (!exec || !exec[1].endsWith('/node_modules/.bin/openclaw')) throw new Error('the gateway unit does not run node_modules/.bin/openclaw');
  const args = exec[2].split(/\s+/);
  const i = args.indexOf('--port');
  if (i < 0) throw new Error('the gateway unit passes no --port');
  args[i + 1] = String(port);
  return args;
}

/** The substitutions of the header, applied to the rendered openclaw.json. */
function adjustConfig(config: any, o: { port: number; resolverPath: string; awsCli: string }): void {
  const gateway = config.gateway;
  gateway.port = o.port;
  if (gateway.bind === 'lan') gateway.bind = 'loopback';
  if (gateway.bind !== 'loopback') throw new Error(`the tests cannot run a gateway with bind ${gateway.bind}`);
  if (Array.isArray(gateway.trustedProxies)) {
    gateway.trustedProxies = gateway.trustedProxies.map((c: string) => c.replace(/^10\./, '127.'));
  }
  if (gateway.auth?.mode === 'trusted-proxy') {
    gateway.auth.trustedProxy.allowLoopback = true;
  }
  const providers = Object.values(config.secrets?.providers ?? {}) as any[];
  const resolver = providers.find((p) => p.source === 'exec' && p.command === '/opt/openclaw/bin/openclaw-secret-resolver');
  if (!resolver) throw new Error('the rendered config declares no exec provider running the host-installed resolver');
  resolver.command = o.resolverPath;
  resolver.args = [...resolver.args, '--aws-cli', o.awsCli];
  resolver.passEnv = [...resolver.passEnv, 'AWS_ENDPOINT_URL', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'];
}

export interface HttpOptions {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** The client's source address (any 127.x address). */
  readonly localAddress?: string;
  /** @default 10000 */
  readonly timeoutMs?: number;
}

/** One HTTP(S) request; a self-signed certificate (the gateway's auto-generated one) is accepted. */
export function httpGet(url: string, options: HttpOptions = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const lib = u.protocol === 'https:' ? https : http;
    const req = lib.request(u, {
      method: options.method ?? 'GET',
      headers: options.headers,
      localAddress: options.localAddress,
      rejectUnauthorized: false,
      timeout: options.timeoutMs ?? 10_000,
    } as https.RequestOptions, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url}`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

/**
 * A forward proxy that refuses everything and remembers the destination of every request the gateway tried to
 * make (`CONNECT host:port` for HTTPS, the absolute URL for plain HTTP).
 */
export class EgressRecorder {
  public static async start(): Promise<EgressRecorder> {
    const recorder = new EgressRecorder();
    await new Promise<void>((resolve) => recorder.server.listen(0, '127.0.0.1', resolve));
    return recorder;
  }

  /** Destinations, in order. */
  public readonly destinations: string[] = [];
  private readonly server: http.Server;
  private readonly sockets = new Set<net.Socket>();

  private constructor() {
    this.server = http.createServer((req, res) => {
      this.destinations.push(req.url ?? '');
      res.writeHead(403).end();
    });
    this.server.on('connect', (req: http.IncomingMessage, socket: net.Socket) => {
      this.destinations.push(req.url ?? '');
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
    });
    this.server.on('connection', (s) => { this.sockets.add(s); s.on('close', () => this.sockets.delete(s)); });
  }

  public get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** The host names the gateway tried to reach. */
  public hosts(): string[] {
    return [...new Set(this.destinations.map((d) => {
      try {
        return d.includes('://') ? new URL(d).hostname : d.replace(/:\d+$/, '');
      } catch {
        return d;
      }
    }))].sort();
  }

  public async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// A minimal client of the gateway's WebSocket protocol (version 4), written from the package's own docs
// (docs/gateway/protocol/handshake.md and auth.md). The tests must set what a browser or a proxy sets (an Origin,
// an identity header) and pick the client's source address; jest's Node 20 has no WebSocket and the repository has
// no `ws`, so this speaks RFC 6455 over http(s).request: masked client frames, text/close/ping.
// ---------------------------------------------------------------------------------------------------------------

export interface ConnectOptions {
  readonly port: number;
  /** Use wss:// (the gateway's self-signed certificate is accepted). @default false */
  readonly tls?: boolean;
  /** The client's source address (any 127.x address). @default - 127.0.0.1 */
  readonly localAddress?: string;
  /** Extra headers of the upgrade request: `Origin`, a proxy's identity headers. */
  readonly headers?: Record<string, string>;
  /** The shared token sent in `connect.params.auth.token`. */
  readonly token?: string;
  /** `connect.params.client.id`: `cli` for a command-line client, `webchat-ui` for a browser. @default 'cli' */
  readonly clientId?: string;
  /** `connect.params.client.mode`. @default 'cli' */
  readonly clientMode?: string;
  /** @default ['operator.read'] */
  readonly scopes?: string[];
  /** Sign the challenge with a fresh Ed25519 device identity (every direct client must). @default true */
  readonly device?: boolean;
  /** @default 20000 */
  readonly timeoutMs?: number;
}

export interface ConnectResult {
  /** The HTTP status when the server refused the WebSocket upgrade itself. */
  readonly upgradeStatus?: number;
  /** True when the gateway answered the connect request with `hello-ok`. */
  readonly ok: boolean;
  /** The `hello-ok` payload. */
  readonly hello?: any;
  /** The connect error (`{code, message, details}`). */
  readonly error?: any;
  /** The close code when the gateway closed the socket before answering. */
  readonly closeCode?: number;
  readonly closeReason?: string;
  /** Sends one more request on an admitted connection and returns its response frame. */
  readonly call: (method: string, params?: any) => Promise<any>;
  readonly close: () => void;
}

/** Opens a WebSocket to the gateway and performs the connect handshake. */
export function connectGateway(options: ConnectOptions): Promise<ConnectResult> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  return new Promise((resolve, reject) => {
    const lib = options.tls ? https : http;
    const req = lib.request({
      host: '127.0.0.1',
      port: options.port,
      path: '/',
      localAddress: options.localAddress,
      rejectUnauthorized: false,
      headers: {
        'Connection': 'Upgrade',
        'Upgrade': 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': crypto.randomBytes(16).toString('base64'),
        ...options.headers,
      },
    } as https.RequestOptions);
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`no connect answer from the gateway within ${timeoutMs} ms`));
    }, timeoutMs);
    const noop = () => undefined;
    req.on('error', (e) => { clearTimeout(timer); reject(e); });
    req.on('response', (res) => {
      res.resume();
      clearTimeout(timer);
      resolve({ ok: false, upgradeStatus: res.statusCode, call: () => Promise.reject(new Error('not connected')), close: noop });
    });
    req.on('upgrade', (_res, socket, head) => {
      const ws = new FrameSocket(socket, head);
      const pending = new Map<string, (frame: any) => void>();
      let connectId: string | undefined;
      let settled = false;
      const finish = (r: Omit<ConnectResult, 'call' | 'close'>) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({
          ...r,
          call: (method, params = {}) => new Promise((ok, fail) => {
            const id = crypto.randomUUID();
            const t = setTimeout(() => { pending.delete(id); fail(new Error(`no answer to ${method}`)); }, timeoutMs);
            pending.set(id, (frame) => { clearTimeout(t); ok(frame); });
            ws.send(JSON.stringify({ type: 'req', id, method, params }));
          }),
          close: () => ws.close(),
        });
      };
      ws.onClose = (code, reason) => finish({ ok: false, closeCode: code, closeReason: reason });
      ws.onText = (text) => {
        let frame: any;
        try { frame = JSON.parse(text); } catch { return; }
        if (frame.type === 'event' && frame.event === 'connect.challenge' && connectId === undefined) {
          connectId = crypto.randomUUID();
          ws.send(JSON.stringify({ type: 'req', id: connectId, method: 'connect', params: connectParams(options, frame.payload) }));
        } else if (frame.type === 'res' && frame.id === connectId) {
          finish(frame.ok ? { ok: true, hello: frame.payload } : { ok: false, error: frame.error });
        } else if (frame.type === 'res' && pending.has(frame.id)) {
          pending.get(frame.id)!(frame);
          pending.delete(frame.id);
        }
      };
    });
    req.end();
  });
}

function connectParams(options: ConnectOptions, challenge: { nonce: string; ts: number }): any {
  const clientId = options.clientId ?? 'cli';
  const clientMode = options.clientMode ?? 'cli';
  const role = 'operator';
  const scopes = options.scopes ?? ['operator.read'];
  const platform = 'linux';
  const params: any = {
    minProtocol: 4,
    maxProtocol: 4,
    client: { id: clientId, version: '1.0.0', platform, mode: clientMode },
    role,
    scopes,
    caps: [],
    commands: [],
    permissions: {},
    auth: options.token === undefined ? {} : { token: options.token },
    locale: 'en-US',
    userAgent: 'cdk-openclaw-real-tests/1.0.0',
  };
  if (options.device ?? true) {
    // A device identity is an Ed25519 key: its id is the SHA-256 of the raw public key, and it signs the v3
    // payload (docs/gateway/protocol/auth.md) that binds the server's nonce and timestamp to this connect.
    const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
    const raw = (publicKey.export({ format: 'der', type: 'spki' }) as Buffer).subarray(-32);
    const deviceId = crypto.createHash('sha256').update(raw).digest('hex');
    const payload = ['v3', deviceId, clientId, clientMode, role, scopes.join(','), String(challenge.ts),
      options.token ?? '', challenge.nonce, platform, ''].join('|');
    params.device = {
      id: deviceId,
      publicKey: raw.toString('base64url'),
      signature: crypto.sign(null, Buffer.from(payload, 'utf8'), privateKey).toString('base64url'),
      signedAt: challenge.ts,
      nonce: challenge.nonce,
    };
  }
  return params;
}

/* eslint-disable no-bitwise -- RFC 6455 frame headers are bit fields, and client frames are XOR-masked. */
/** RFC 6455 framing on a raw socket: enough for JSON text frames. */
class FrameSocket {
  private buf: Buffer;
  private fragments: Buffer[] = [];
  private closed = false;
  public onText: (text: string) => void = () => undefined;
  public onClose: (code: number | undefined, reason: string) => void = () => undefined;

  // eslint-disable-next-line @typescript-eslint/member-ordering -- the handlers above are fields, set by the caller
  constructor(private readonly socket: net.Socket, head: Buffer) {
    this.buf = Buffer.from(head);
    socket.on('data', (d: Buffer) => { this.buf = Buffer.concat([this.buf, d]); this.drain(); });
    socket.on('close', () => this.closedBy(undefined, 'socket closed'));
    socket.on('error', () => this.closedBy(undefined, 'socket error'));
    if (this.buf.length) setImmediate(() => this.drain());
  }

  public send(text: string, opcode = 1): void {
    const data = Buffer.from(text, 'utf8');
    const mask = crypto.randomBytes(4);
    const len = data.length;
    const header = len < 126 ? Buffer.from([0x80 | opcode, 0x80 | len])
      : len < 65536 ? Buffer.from([0x80 | opcode, 0x80 | 126, len >> 8, len & 0xff])
        : Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | 127]), bigEndian64(len)]);
    const masked = Buffer.alloc(len);
    for (let i = 0; i < len; i++) masked[i] = data[i] ^ mask[i % 4];
    if (!this.socket.destroyed) this.socket.write(Buffer.concat([header, mask, masked]));
  }

  public close(): void {
    if (!this.closed) this.send('', 8);
    this.socket.destroy();
    this.closedBy(1000, 'client closed');
  }

  private closedBy(code: number | undefined, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose(code, reason);
  }

  private drain(): void {
    for (;;) {
      if (this.buf.length < 2) return;
      const fin = (this.buf[0] & 0x80) !== 0;
      const opcode = this.buf[0] & 0x0f;
      const masked = (this.buf[1] & 0x80) !== 0;
      let len = this.buf[1] & 0x7f;
      let off = 2;
      if (len === 126) {
        if (this.buf.length < 4) return;
        len = this.buf.readUInt16BE(2); off = 4;
      } else if (len === 127) {
        if (this.buf.length < 10) return;
        len = Number(this.buf.readBigUInt64BE(2)); off = 10;
      }
      const maskKey = masked ? this.buf.subarray(off, off + 4) : undefined;
      if (masked) off += 4;
      if (this.buf.length < off + len) return;
      let payload = Buffer.from(this.buf.subarray(off, off + len));
      if (maskKey) for (let i = 0; i < payload.length; i++) payload[i] ^= maskKey[i % 4];
      this.buf = this.buf.subarray(off + len);
      if (opcode === 8) {
        const code = payload.length >= 2 ? payload.readUInt16BE(0) : undefined;
        this.closedBy(code, payload.subarray(2).toString('utf8'));
        this.socket.destroy();
        return;
      }
      if (opcode === 9) { this.send(payload.toString('utf8'), 10); continue; }
      if (opcode === 1 || opcode === 0) {
        this.fragments.push(payload);
        if (fin) {
          payload = Buffer.concat(this.fragments);
          this.fragments = [];
          this.onText(payload.toString('utf8'));
        }
      }
    }
  }
}

function bigEndian64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}
