import { Duration, Token } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { HEADER_RULE, HOST_ORIGIN_ID, ORIGIN_HEADER, checkHeaderRotation, requireOriginHeaderRule, rotateOriginHeader } from './origin-header';
import { invalidProp, isDnsName } from '../core/validation';
import type { SecureOpenClawHost } from '../host/host';
import { HostIngressKind } from '../host/ingress';

/** Timeouts of CloudFront's connection to the origin. */
export interface EdgeOriginTimeouts {
  /**
   * How long CloudFront waits for a response (or the next packet of one) from the origin: 1 to 120 seconds
   * (more needs a CloudFront quota increase). The gateway streams model output, so the default is generous.
   * @default Duration.seconds(60)
   */
  readonly readTimeout?: Duration;

  /**
   * How long CloudFront keeps an idle connection to the origin open: 1 to 120 seconds.
   * @default Duration.seconds(60)
   */
  readonly keepaliveTimeout?: Duration;
}

/** A VPC origin to an EC2 instance in a private subnet. */
export interface InstanceEdgeOriginOptions extends EdgeOriginTimeouts {
  /** The port the instance serves HTTP on. */
  readonly port: number;
  /**
   * The instance's network access, opened to CloudFront's origin-facing addresses on `port`.
   * @default - not changed: open the port to the CloudFront origin-facing prefix list yourself
   */
  readonly connections?: ec2.Connections;
}

/** A VPC origin to an internal Application Load Balancer. */
export interface LoadBalancerEdgeOriginOptions extends EdgeOriginTimeouts {
  /**
   * The name CloudFront connects to with HTTPS: the load balancer's certificate must be valid for it.
   */
  readonly domainName: string;
  /**
   * The HTTPS port of the listener.
   * @default 443
   */
  readonly httpsPort?: number;
}

/** What the edge needs from its construct to bind an origin. @internal */
export interface EdgeOriginBinding {
  /** The id of the CloudFront origin-facing managed prefix list in the stack's region (resolved at deploy time). */
  readonly originFacingPrefixListId: () => string;
  /** The key of the edge (secrets, function environments, log groups). */
  readonly key: kms.IKey;
}

/** An internet-facing load balancer to lock to the edge, with its regional web ACL. @internal */
export interface LockedLoadBalancer {
  readonly loadBalancer: elbv2.IApplicationLoadBalancer;
  readonly domainName: string;
  readonly webAcl: wafv2.CfnWebACL;
  readonly rules: wafv2.CfnWebACL.RuleProperty[];
  readonly visibility: (name: string) => wafv2.CfnWebACL.VisibilityConfigProperty;
  readonly rotation: Duration;
}

/** A bound origin, and what to do once the distribution exists. @internal */
export interface EdgeOriginConfig {
  readonly origin: cloudfront.IOrigin;
  readonly connect?: (distribution: cloudfront.Distribution, url: string) => void;
  /** Secrets the origin keeps (for the cost estimate). */
  readonly secrets?: number;
}

/** The load balancer of a `SecureOpenClawHost` as the edge's origin. */
export interface HostLoadBalancerEdgeOriginOptions extends EdgeOriginTimeouts {
  /**
   * How often the secret origin header is rotated (the web ACL accepts the old and the new value while CloudFront
   * switches over, so no request is dropped).
   * @default Duration.days(30)
   */
  readonly headerRotation?: Duration;
}


/**
 * Where `OpenClawEdge` sends requests. `instance` and `loadBalancer` are CloudFront VPC origins (the origin has no
 * public address); `hostLoadBalancer` is the internet-facing load balancer of a host, locked to the edge.
 */
export abstract class EdgeOrigin {
  /**
   * An instance in a private subnet, over HTTP on `port` inside the VPC (CloudFront's VPC origin connects from
   * elastic network interfaces in the VPC; the traffic never crosses the internet).
   */
  public static instance(instance: ec2.IInstance, options: InstanceEdgeOriginOptions): EdgeOrigin {
    return new (class extends EdgeOrigin {
      public _bind(scope: Construct, edge: EdgeOriginBinding): EdgeOriginConfig {
        checkOriginPort(scope, 'origin.port', options.port);
        const timeouts = checkTimeouts(scope, options);
        options.connections?.allowFrom(ec2.Peer.prefixList(edge.originFacingPrefixListId()), ec2.Port.tcp(options.port),
          'CloudFront VPC origin of the OpenClaw edge');
        return {
          origin: origins.VpcOrigin.withEc2Instance(instance, {
            httpPort: options.port,
            protocolPolicy: cloudfront.OriginProtocolPolicy.HTTP_ONLY,
            ...timeouts,
          }),
        };
      }
    })();
  }

  /**
   * An internal Application Load Balancer over HTTP on `port` inside the VPC (the tenant platform's, whose
   * certificate-free listener is reachable only through the VPC origin).
   * @internal
   */
  public static _internalLoadBalancer(loadBalancer: elbv2.IApplicationLoadBalancer, port: number): EdgeOrigin {
    return new (class extends EdgeOrigin {
      public _bind(_scope: Construct, edge: EdgeOriginBinding): EdgeOriginConfig {
        loadBalancer.connections.allowFrom(ec2.Peer.prefixList(edge.originFacingPrefixListId()), ec2.Port.tcp(port),
          'CloudFront VPC origin of the OpenClaw edge');
        return {
          origin: origins.VpcOrigin.withApplicationLoadBalancer(loadBalancer, {
            httpPort: port,
            protocolPolicy: cloudfront.OriginProtocolPolicy.HTTP_ONLY,
            readTimeout: Duration.seconds(60),
            keepaliveTimeout: Duration.seconds(60),
          }),
        };
      }
    })();
  }

  /**
   * The tenant platform's internet-facing load balancer, locked to the edge as `hostLoadBalancer` locks a host's: HTTPS
   * only from CloudFront's origin-facing prefix list, and a regional web ACL whose first rule blocks every request
   * without the rotated secret origin header.
   * @internal
   */
  public static _lockedLoadBalancer(lock: LockedLoadBalancer): EdgeOrigin {
    return new (class extends EdgeOrigin {
      public _bind(scope: Construct, edge: EdgeOriginBinding): EdgeOriginConfig {
        const { secret, value, origin } = headerOrigin(scope, edge.key, lock.domainName, 'the OpenClaw platform\'s load balancer', checkTimeouts(scope, {}));
        return {
          origin,
          secrets: 1,
          connect: (distribution) => {
            new ec2.CfnSecurityGroupIngress(scope, 'EdgeHttps', {
              groupId: lock.loadBalancer.connections.securityGroups[0].securityGroupId,
              ipProtocol: 'tcp',
              fromPort: 443,
              toPort: 443,
              sourcePrefixListId: edge.originFacingPrefixListId(),
              description: 'HTTPS from the edge only (its origin-facing prefix list)',
            });
            lock.webAcl.rules = [
              requireOriginHeaderRule(ORIGIN_HEADER, value, lock.visibility(HEADER_RULE)),
              ...lock.rules.map((r) => ({ ...r, priority: r.priority + 1 })),
            ];
            rotateOriginHeader(scope, { secret, key: edge.key, distribution, webAcl: lock.webAcl, every: lock.rotation });
          },
        };
      }
    })();
  }

  /** An internal Application Load Balancer, over HTTPS with `domainName` (TLS 1.2). */
  public static loadBalancer(loadBalancer: elbv2.IApplicationLoadBalancer, options: LoadBalancerEdgeOriginOptions): EdgeOrigin {
    return new (class extends EdgeOrigin {
      public _bind(scope: Construct, edge: EdgeOriginBinding): EdgeOriginConfig {
        const httpsPort = options.httpsPort ?? 443;
        checkOriginPort(scope, 'origin.httpsPort', httpsPort);
        if (!Token.isUnresolved(options.domainName) && !isDnsName(options.domainName)) {
          invalidProp(scope, 'origin.domainName', options.domainName, 'a lower-case DNS name the load balancer\'s certificate covers, such as origin.example.com');
        }
        const timeouts = checkTimeouts(scope, options);
        loadBalancer.connections.allowFrom(ec2.Peer.prefixList(edge.originFacingPrefixListId()), ec2.Port.tcp(httpsPort),
          'CloudFront VPC origin of the OpenClaw edge');
        return {
          origin: origins.VpcOrigin.withApplicationLoadBalancer(loadBalancer, {
            domainName: options.domainName,
            httpsPort,
            protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
            originSslProtocols: [cloudfront.OriginSslPolicy.TLS_V1_2],
            ...timeouts,
          }),
        };
      }
    })();
  }

  /**
   * The internet-facing load balancer of a `SecureOpenClawHost` (`HostIngress.loadBalancer`), over HTTPS to the
   * host's domain name. The edge locks it down: its security group admits HTTPS only from CloudFront's origin-facing
   * prefix list, and its web ACL blocks every request without the secret origin header CloudFront adds. The header's
   * value lives in Secrets Manager and is rotated on a schedule without dropping a request. The edge's domain
   * becomes one of OpenClaw's allowed browser origins.
   */
  public static hostLoadBalancer(host: SecureOpenClawHost, options: HostLoadBalancerEdgeOriginOptions = {}): EdgeOrigin {
    return new (class extends EdgeOrigin {
      public _bind(scope: Construct, edge: EdgeOriginBinding): EdgeOriginConfig {
        const target = host._edgeTarget();
        if (target.kind !== HostIngressKind.LOAD_BALANCER || !target.webAcl || !host.domainName) {
          invalidProp(scope, 'origin', `a host with ingress ${target.kind}`, 'a host with HostIngress.loadBalancer (Cognito sign-in redirects to the load balancer\'s own name, which only the edge may reach)');
        }
        const timeouts = checkTimeouts(scope, options);
        const rotation = options.headerRotation ?? Duration.days(30);
        checkHeaderRotation(scope, 'origin.headerRotation', rotation);
        const { secret, value, origin } = headerOrigin(scope, edge.key, host.domainName, 'the OpenClaw host\'s load balancer', timeouts);
        return {
          origin,
          secrets: 1,
          connect: (distribution, url) => {
            host.restrictToEdge({
              prefixListId: edge.originFacingPrefixListId(),
              originHeaderName: ORIGIN_HEADER,
              originHeaderValue: value,
              browserOrigin: url,
            });
            rotateOriginHeader(scope, { secret, key: edge.key, distribution, webAcl: target.webAcl!, every: rotation });
          },
        };
      }
    })();
  }

  /** @internal */
  public abstract _bind(scope: Construct, edge: EdgeOriginBinding): EdgeOriginConfig;
}

/** The rotated origin-header secret and the HTTPS origin that sends it to `domainName` (TLS 1.2). */
function headerOrigin(
  scope: Construct, key: kms.IKey, domainName: string, target: string, timeouts: { readTimeout: Duration; keepaliveTimeout: Duration },
) {
  const secret = new secretsmanager.Secret(scope, 'OriginHeader', {
    description: `The secret header CloudFront sends to ${target} (rotated)`,
    encryptionKey: key,
    generateSecretString: { secretStringTemplate: '{}', generateStringKey: 'current', passwordLength: 48, excludePunctuation: true },
  });
  const value = secret.secretValueFromJson('current').unsafeUnwrap();
  const origin = new origins.HttpOrigin(domainName, {
    originId: HOST_ORIGIN_ID,
    protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
    originSslProtocols: [cloudfront.OriginSslPolicy.TLS_V1_2],
    customHeaders: { [ORIGIN_HEADER]: value },
    ...timeouts,
  });
  return { secret, value, origin };
}

/** CloudFront connects to origins on 80, 443 or 1024-65535 only. */
function checkOriginPort(scope: Construct, prop: string, port: number): void {
  if (Token.isUnresolved(port)) return;
  if (!Number.isInteger(port) || !(port === 80 || port === 443 || (port >= 1024 && port <= 65535))) {
    invalidProp(scope, prop, port, '80, 443 or a port from 1024 to 65535 (the ports CloudFront connects to)');
  }
}

function checkTimeouts(scope: Construct, t: EdgeOriginTimeouts): { readTimeout: Duration; keepaliveTimeout: Duration } {
  const readTimeout = t.readTimeout ?? Duration.seconds(60);
  const keepaliveTimeout = t.keepaliveTimeout ?? Duration.seconds(60);
  for (const [prop, d] of [['origin.readTimeout', readTimeout], ['origin.keepaliveTimeout', keepaliveTimeout]] as const) {
    if (d.isUnresolved()) continue;
    const s = d.toSeconds({ integral: false });
    if (!Number.isInteger(s) || s < 1 || s > 120) invalidProp(scope, prop, d.toHumanString(), 'a whole number of seconds from 1 to 120');
  }
  return { readTimeout, keepaliveTimeout };
}
