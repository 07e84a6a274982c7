import { Lazy } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { HostIngress, HostIngressKind } from './ingress';
import { COGNITO_DATA_HEADER, COGNITO_IDENTITY_HEADER } from './load-balancer';
import { invalidProp } from '../core/validation';
import { OpenClawConfig } from '../openclaw/config';
import { GatewayAuth, GatewayBind, GatewayOptions } from '../openclaw/gateway';
import { OpenClawSecretResolver } from '../openclaw/resolver/secret-resolver';

/** ARNs of the host's secrets, referenced from openclaw.json through the exec resolver. */
export interface HostSecretArns {
  readonly gatewayToken?: string;
  readonly anthropicApiKey?: string;
  readonly telegramBotToken?: string;
}

/** @internal */
export interface HostGatewayConfigProps {
  readonly userConfig?: OpenClawConfig;
  readonly ingress: HostIngress;
}

/**
 * Derives the configuration the host runs from the user's configuration and the ingress: the ingress owns the
 * bind address, trusted proxies, allowed origins, TLS and (with Cognito) the auth mode. A user setting that
 * contradicts the ingress fails at synth rather than being silently replaced.
 * @internal
 */
export class HostGatewayConfig {
  /** The port the gateway listens on. */
  public readonly port: number;
  /** True when the gateway authenticates with a token this host must create. */
  public readonly needsGatewayToken: boolean;
  /** The resolver's source, installed on the host. */
  public readonly resolverScript: string;
  /** True when the gateway terminates TLS itself (every shape but private). */
  public tls = false;

  private readonly user: OpenClawConfig;
  private readonly userSetAuth: boolean;
  private gateway: GatewayOptions = {};
  private readonly extraOrigins: string[] = [];

  constructor(scope: Construct, props: HostGatewayConfigProps) {
    this.user = props.userConfig ?? new OpenClawConfig();
    const userGateway = this.user.props.gateway ?? {};
    this.userSetAuth = userGateway.auth !== undefined;
    this.port = this.user.gatewayPort;
    const cognito = props.ingress.kind === HostIngressKind.LOAD_BALANCER_WITH_COGNITO;
    this.needsGatewayToken = !cognito && !this.userSetAuth;
    this.resolverScript = OpenClawSecretResolver.scriptSource();

    if (props.ingress.kind !== HostIngressKind.PRIVATE) {
      if (userGateway.bind !== undefined && userGateway.bind.mode !== GatewayBind.LAN.mode) {
        invalidProp(scope, 'config.gateway.bind', userGateway.bind.mode, `unset or 'lan' with ingress ${props.ingress.kind} (the gateway must listen on the VPC address)`);
      }
      if (userGateway.trustedProxies !== undefined) {
        invalidProp(scope, 'config.gateway.trustedProxies', userGateway.trustedProxies, 'unset: the host derives the trusted proxies from the load balancer subnets');
      }
    }
    if (cognito && this.userSetAuth && userGateway.auth!.mode !== 'trusted-proxy') {
      invalidProp(scope, 'config.gateway.auth', userGateway.auth!.mode, 'unset with HostIngress.loadBalancerWithCognito (the host sets trusted-proxy auth on the Cognito identity header)');
    }
    if (props.ingress.kind === HostIngressKind.PUBLIC_INSTANCE && this.user.gatewayAuth.mode === 'none') {
      invalidProp(scope, 'config.gateway.auth', 'none', 'token, password or trusted-proxy auth on a host reachable from the internet');
    }
  }

  /** Behind the load balancer: listen on the VPC address with TLS, trust only the load balancer subnets. */
  public trustLoadBalancer(proxyCidrs: string[], domainName: string, cognito: boolean): void {
    this.tls = true;
    this.gateway = {
      bind: GatewayBind.LAN,
      trustedProxies: proxyCidrs,
      // An edge added later (restrictToEdge) brings its own browser origin: the list is read at synthesis.
      controlUi: { ...this.user.props.gateway?.controlUi, allowedOrigins: Lazy.list({ produce: () => [`https://${domainName}`, ...this.extraOrigins] }) },
      auth: cognito && !this.userSetAuth
        ? GatewayAuth.trustedProxy({ userHeader: COGNITO_IDENTITY_HEADER, requiredHeaders: [COGNITO_DATA_HEADER] })
        : undefined,
    };
  }

  /** Adds a browser origin (an edge's) to the allowed origins of the load balancer shapes. */
  public addAllowedOrigin(origin: string): void {
    this.extraOrigins.push(origin);
  }

  /**
   * Behind CloudFront's VPC origin: listen on the VPC address without TLS (the VPC origin connects over HTTP inside
   * the VPC; CloudFront terminates TLS), trust the subnets CloudFront's origin interfaces live in.
   */
  public trustEdge(proxyCidrs: string[], domainName: string): void {
    this.tls = false;
    this.gateway = {
      bind: GatewayBind.LAN,
      trustedProxies: proxyCidrs,
      controlUi: { ...this.user.props.gateway?.controlUi, allowedOrigins: [`https://${domainName}`] },
    };
  }

  /** The budget tier: listen on the instance address with TLS; browsers come from the public address. */
  public servePublicly(publicAddress: string): void {
    this.tls = true;
    this.gateway = {
      bind: GatewayBind.LAN,
      controlUi: { ...this.user.props.gateway?.controlUi, allowedOrigins: [`https://${publicAddress}:${this.port}`] },
    };
  }

  /** The configuration the host runs: the user's, with the ingress settings and the host's secret references. */
  public build(secrets: HostSecretArns, region: string): OpenClawConfig {
    const allowedSecrets = [secrets.gatewayToken, secrets.anthropicApiKey, secrets.telegramBotToken].filter((a): a is string => a !== undefined);
    const resolverOptions = {
      region,
      ...this.user.props.secretResolver,
      allowedPrefixes: allowedSecrets.length > 0 ? allowedSecrets : this.user.props.secretResolver?.allowedPrefixes,
    };
    const token = secrets.gatewayToken
      ? GatewayAuth.token(OpenClawSecretResolver.secretRef(secrets.gatewayToken, resolverOptions.providerName))
      : undefined;
    const base = this.user._withProps({ ...this.user.props, secretResolver: resolverOptions });
    const config = base.withGateway({ ...this.gateway, auth: this.gateway.auth ?? token });
    if (this.tls) {
      // OpenClaw generates a self-signed pair on first start; the load balancer (or the operator) connects with TLS 1.3.
      config.addOverride('gateway.tls', { enabled: true, autoGenerate: true });
    }
    if (secrets.anthropicApiKey) {
      config.addOverride('models.providers.anthropic.apiKey', OpenClawSecretResolver.secretRef(secrets.anthropicApiKey, resolverOptions.providerName).toJson());
    }
    if (secrets.telegramBotToken) {
      config.addOverride('channels.telegram.enabled', true);
      config.addOverride('channels.telegram.botToken', OpenClawSecretResolver.secretRef(secrets.telegramBotToken, resolverOptions.providerName).toJson());
    }
    return config;
  }
}
