import { fail, isIpv4, isToken } from './private/validate';
import { SecretRef } from './secret-ref';

/**
 * Which network interface the OpenClaw gateway listens on (`gateway.bind`).
 */
export class GatewayBind {
  /** `127.0.0.1` only: reachable from the host itself. The most private choice. */
  public static readonly LOOPBACK = new GatewayBind('loopback');

  /** All interfaces (`0.0.0.0`). Needed behind a load balancer; requires gateway auth. */
  public static readonly LAN = new GatewayBind('lan');

  /** The Tailscale IPv4 address when available, otherwise loopback. */
  public static readonly TAILNET = new GatewayBind('tailnet');

  /** Let OpenClaw choose. */
  public static readonly AUTO = new GatewayBind('auto');

  /**
   * One specific IPv4 address (`gateway.customBindHost`).
   *
   * @param host an IPv4 address such as `10.0.1.23` or `0.0.0.0`
   */
  public static custom(host: string): GatewayBind {
    if (!isToken(host) && !isIpv4(host)) {
      fail('gateway.customBindHost', 'an IPv4 address', host);
    }
    return new GatewayBind('custom', host);
  }

  /** The `gateway.bind` value: `loopback`, `lan`, `tailnet`, `auto` or `custom`. */
  public readonly mode: string;

  /**
   * The `gateway.customBindHost` value, set only for `custom`.
   *
   * @default - not set
   */
  public readonly customBindHost?: string;

  private constructor(mode: string, customBindHost?: string) {
    this.mode = mode;
    this.customBindHost = customBindHost;
  }

  /** True when the gateway listens on loopback only (so no other machine can reach it). */
  public get isLoopback(): boolean {
    return this.mode === 'loopback' || (this.mode === 'custom' && this.customBindHost === '127.0.0.1');
  }
}

/**
 * Settings of the trusted-proxy authentication mode.
 */
export interface TrustedProxyAuthOptions {
  /**
   * The request header in which the identity-aware proxy puts the authenticated user
   * (for example `x-amzn-oidc-identity` behind an ALB with Cognito or OIDC, or `x-forwarded-user`).
   */
  readonly userHeader: string;

  /**
   * Headers that must be present for a request to be trusted (proof that it went through the proxy).
   *
   * @default - none
   */
  readonly requiredHeaders?: string[];

  /**
   * Users allowed in; an empty list allows every user the proxy authenticated.
   *
   * @default - every authenticated user
   */
  readonly allowUsers?: string[];

  /**
   * Accept proxy traffic from loopback (a proxy on the same host). Only safe when nothing else
   * on the host can send requests to the gateway.
   *
   * @default false
   */
  readonly allowLoopback?: boolean;

  /**
   * A password for internal clients on the gateway host that do not go through the proxy.
   * OpenClaw does not accept a shared token together with trusted-proxy mode.
   *
   * @default - no local password fallback
   */
  readonly localPassword?: SecretRef;
}

/**
 * How clients authenticate to the gateway (`gateway.auth`).
 *
 * Secrets are always given as `SecretRef`s, so the rendered `openclaw.json` never contains a secret value.
 */
export class GatewayAuth {
  /**
   * No authentication. OpenClaw only allows this for a loopback bind; the configuration
   * rejects it for any other bind.
   */
  public static none(): GatewayAuth {
    return new GatewayAuth('none');
  }

  /**
   * A shared bearer token (`gateway.auth.token`).
   *
   * @param token where the token comes from, for example
   *   `SecretRef.fromExec('aws-secrets-manager', secret.secretArn)`
   */
  public static token(token: SecretRef): GatewayAuth {
    return new GatewayAuth('token', token);
  }

  /**
   * A shared password (`gateway.auth.password`).
   *
   * @param password where the password comes from
   */
  public static password(password: SecretRef): GatewayAuth {
    return new GatewayAuth('password', undefined, password);
  }

  /**
   * Identity delegated to an identity-aware reverse proxy (`gateway.auth.mode: "trusted-proxy"`):
   * the gateway trusts the user header only on requests whose source address is listed in
   * `gateway.trustedProxies`.
   */
  public static trustedProxy(options: TrustedProxyAuthOptions): GatewayAuth {
    if (!isToken(options.userHeader) && !/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(options.userHeader ?? '')) {
      fail('gateway.auth.trustedProxy.userHeader', 'a non-empty HTTP header name', options.userHeader ?? '');
    }
    return new GatewayAuth('trusted-proxy', undefined, options.localPassword, options);
  }

  /** The `gateway.auth.mode` value: `none`, `token`, `password` or `trusted-proxy`. */
  public readonly mode: string;

  /**
   * The token reference (token mode only).
   *
   * @default - not set
   */
  public readonly tokenRef?: SecretRef;

  /**
   * The password reference (password mode, or the local fallback of trusted-proxy mode).
   *
   * @default - not set
   */
  public readonly passwordRef?: SecretRef;

  /**
   * The trusted-proxy settings (trusted-proxy mode only).
   *
   * @default - not set
   */
  public readonly trustedProxyOptions?: TrustedProxyAuthOptions;

  private constructor(mode: string, tokenRef?: SecretRef, passwordRef?: SecretRef, trustedProxyOptions?: TrustedProxyAuthOptions) {
    this.mode = mode;
    this.tokenRef = tokenRef;
    this.passwordRef = passwordRef;
    this.trustedProxyOptions = trustedProxyOptions;
  }
}

/**
 * The failed-authentication limiter (`gateway.auth.rateLimit`), applied per client IP.
 */
export interface AuthRateLimitOptions {
  /**
   * Failed attempts allowed within `windowMs` before the client is locked out.
   *
   * @default 10
   */
  readonly maxAttempts?: number;

  /**
   * Length of the counting window, in milliseconds.
   *
   * @default 60000
   */
  readonly windowMs?: number;

  /**
   * How long a client stays locked out, in milliseconds.
   *
   * @default 300000
   */
  readonly lockoutMs?: number;

  /**
   * Whether loopback clients are exempt.
   *
   * @default - OpenClaw's default (exempt)
   */
  readonly exemptLoopback?: boolean;
}

/**
 * The browser Control UI served by the gateway (`gateway.controlUi`).
 */
export interface ControlUiOptions {
  /**
   * Whether the gateway serves the Control UI.
   *
   * @default true
   */
  readonly enabled?: boolean;

  /**
   * Path prefix under which the Control UI is served, for example `/openclaw`.
   *
   * @default - served at `/`
   */
  readonly basePath?: string;

  /**
   * Browser origins allowed to open the gateway WebSocket, for example `https://openclaw.example.com`.
   *
   * Each entry must be an `https://` origin (scheme, host and optional port; no path). `http://` is
   * accepted only for `localhost`, `127.0.0.1` and `[::1]` (local development through an SSH tunnel).
   * Required whenever the gateway listens on a non-loopback interface and the Control UI is enabled,
   * because a browser behind a proxy or load balancer connects from a public origin.
   *
   * @default - none (only same-host and private-network origins, as OpenClaw decides)
   */
  readonly allowedOrigins?: string[];
}

/**
 * Gateway settings (`gateway.*` in `openclaw.json`).
 */
export interface GatewayOptions {
  /**
   * The single port for HTTP and WebSocket traffic.
   *
   * @default 18789
   */
  readonly port?: number;

  /**
   * The interface the gateway listens on.
   *
   * @default GatewayBind.LOOPBACK
   */
  readonly bind?: GatewayBind;

  /**
   * How clients authenticate.
   *
   * @default - token auth, the token read from AWS Secrets Manager by the exec secret resolver
   *   (`SecretRef.fromExec('aws-secrets-manager', 'openclaw/gateway-token')`)
   */
  readonly auth?: GatewayAuth;

  /**
   * Source addresses (IPv4/IPv6 addresses or CIDR blocks) of reverse proxies allowed to set
   * forwarded-client and identity headers. Required for trusted-proxy auth.
   *
   * @default - none
   */
  readonly trustedProxies?: string[];

  /**
   * The failed-authentication limiter.
   *
   * @default - 10 failures per 60 s lock the client out for 5 minutes
   */
  readonly authRateLimit?: AuthRateLimitOptions;

  /**
   * The Control UI.
   *
   * @default - enabled at `/`, no extra allowed origins
   */
  readonly controlUi?: ControlUiOptions;

  /**
   * Whether the gateway offers its operator terminal (`gateway.terminal.enabled`): an interactive shell on the
   * gateway host, with the gateway's environment, for every client holding the admin scope, which includes every
   * client presenting the gateway token. It is not governed by the agents' tool policy (`tools.exec`), so leaving
   * OpenClaw's default (on) would give every token holder a host shell whatever the tool policy says.
   *
   * @default false
   */
  readonly operatorTerminal?: boolean;
}
