import { Annotations, Aws, Duration, NestedStack, RemovalPolicy, Stack, Tags, Token } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as efs from 'aws-cdk-lib/aws-efs';
import { CfnAddon, CfnPodIdentityAssociation } from 'aws-cdk-lib/aws-eks';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as route53Targets from 'aws-cdk-lib/aws-route53-targets';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct, DependencyGroup } from 'constructs';
import { TenantBudgetOptions, TenantBudgets } from './budgets/budgets';
import { NodeGroupCapacityOptions, PlatformCapacity } from './capacity';
import { PLATFORM_NAMESPACE_OBJECTS, STORAGE_CLASS_NAME, networkPolicyObjects, storageClass } from './cluster-objects';
import { estimatePlatformCost } from './cost';
import { PlatformMonitoring } from './monitoring';
import { acknowledgeAlbController, acknowledgeKubectlProvider, acknowledgeServiceRoles } from './nag';
import { ROUTER_NAME, ROUTER_POD_LABELS, ROUTER_PORT, renderRouter } from './router-manifests';
import { SelfServiceOptions, TenantSelfService } from './self-service/self-service';
import { PlatformSpec, RenderedTenant, renderTenant } from './tenant-manifests';
import {
  DEFAULT_BUDGET_USD, DEFAULT_GATEWAY_RESOURCES, DEFAULT_TENANT_QUOTA, GatewayResources, SpecError, TAG_BUDGET_USD, TAG_TENANT_NAMESPACE,
  TENANT_SECRET_PREFIX, TenantSpec, parseQuantity, validateTenantSpec,
} from './tenant-spec';
import { BedrockAuditTrail } from '../audit/bedrock-audit-trail';
import { alarmTopic } from '../core/alarm-topic';
import { BEDROCK_DISCOVERY_ACTIONS, BEDROCK_INVOKE_ACTIONS, grantBedrockInvoke, inferenceProfileFindings } from '../core/bedrock-access';
import { CostEstimate } from '../core/cost-estimate';
import { allowLogsService, resolveKey } from '../core/encryption';
import { INLINE_POLICY_RULES, acknowledge, acknowledgeBackupSelection } from '../core/nag';
import { NatStrategy } from '../core/nat';
import { createVpc } from '../core/network';
import { accessLogBucket, checkLogRetention, secureBucket } from '../core/storage';
import { checkEmails, checkIntegerRange, invalidProp, isDnsName, isIpv4Cidr } from '../core/validation';
import { OpenClawEdge } from '../edge/edge';
import { EdgeFirewallOptions } from '../edge/firewall';
import { EdgeOrigin } from '../edge/origin';
import { checkHeaderRotation } from '../edge/origin-header';
import { BedrockAudit } from '../host/bedrock-audit';
import { SecureOpenClawHost } from '../host/host';
import { createRegionalWebAcl, enableAccessLogs } from '../host/load-balancer';
import { OpenClawConfig } from '../openclaw/config';
import { GatewayBind } from '../openclaw/gateway';

/** The OpenClaw container image, pinned by tag and (recommended) digest. */
export interface OpenClawImageOptions {
  /**
   * The repository.
   * @default 'ghcr.io/openclaw/openclaw'
   */
  readonly repository?: string;
  /**
   * The tag (an OpenClaw release).
   * @default SecureOpenClawHost.DEFAULT_OPENCLAW_VERSION
   */
  readonly tag?: string;
  /**
   * The image digest, `sha256:` and 64 hex digits. With it, every node runs exactly the image you reviewed even if
   * the tag is moved.
   * @default - none: the tag alone (synth warns)
   */
  readonly digest?: string;
}

/** Resources and budget of one tenant. Every field has seed 001's default. */
export interface TenantOptions {
  /**
   * CPU of the tenant's namespace quota (requests and limits), a Kubernetes quantity.
   * @default '4'
   */
  readonly cpu?: string;
  /**
   * Memory of the tenant's namespace quota (requests and limits), a Kubernetes quantity.
   * @default '8Gi'
   */
  readonly memory?: string;
  /**
   * Most pods in the tenant's namespace.
   * @default 10
   */
  readonly maxPods?: number;
  /**
   * Monthly Amazon Bedrock budget in US dollars (the gateway-token secret's `budget-usd` tag).
   * @default 100
   */
  readonly budgetUsd?: number;
}

/** The gateway container's requests and limits, as Kubernetes quantities. */
export interface GatewayResourcesOptions {
  /** @default '500m' */
  readonly cpuRequest?: string;
  /** @default '1Gi' */
  readonly memoryRequest?: string;
  /** @default '2' */
  readonly cpuLimit?: string;
  /** @default '2Gi' */
  readonly memoryLimit?: string;
}

/** How browsers reach the platform: `OpenClawEdge` (CloudFront + WAF) in front of its internal load balancer. */
export interface PlatformEdgeOptions {
  /**
   * The DNS name users type, e.g. `openclaw.example.com`: the distribution's alias and every gateway's allowed origin.
   * @default - the distribution's own `*.cloudfront.net` name
   */
  readonly domainName?: string;

  /**
   * The certificate for `domainName`, in us-east-1.
   * @default - requested in us-east-1 and validated through `hostedZone`
   */
  readonly certificate?: acm.ICertificate;

  /**
   * The public hosted zone of `domainName`: the alias records go there, and it validates a new certificate.
   * @default - no records; `certificate` must be given with `domainName`
   */
  readonly hostedZone?: route53.IHostedZone;

  /**
   * The edge's web ACL.
   * @default - rate limit 2000 per 5 minutes per IP, IP reputation, common and known-bad-inputs rule sets
   */
  readonly firewall?: EdgeFirewallOptions;

  /**
   * Edge locations used.
   * @default cloudfront.PriceClass.PRICE_CLASS_100
   */
  readonly priceClass?: cloudfront.PriceClass;
}

/** The load balancer in front of the router. */
export interface PlatformLoadBalancerOptions {
  /**
   * Internet-facing instead of internal. The edge then reaches it over HTTPS by `domainName`; its security group admits
   * HTTPS only from CloudFront's origin-facing prefix list, and its own regional web ACL blocks every request without
   * the secret origin header CloudFront adds (rotated every `headerRotation` without dropping a request).
   * @default false - internal, reached only through a CloudFront VPC origin
   */
  readonly internetFacing?: boolean;

  /**
   * The load balancer's own DNS name (internet-facing only), e.g. `origin.tenants.example.com`: its certificate's name.
   * @default - required when internetFacing
   */
  readonly domainName?: string;

  /**
   * The public hosted zone of `domainName`: validates a new certificate and holds the alias record.
   * @default - none; `certificate` must then be given
   */
  readonly hostedZone?: route53.IHostedZone;

  /**
   * A certificate for `domainName` in the stack's region.
   * @default - requested through `hostedZone`
   */
  readonly certificate?: acm.ICertificate;

  /**
   * How often the secret origin header is rotated (internet-facing only).
   * @default Duration.days(30)
   */
  readonly headerRotation?: Duration;
}

/** Properties of {@link OpenClawTenantPlatform}. */
export interface OpenClawTenantPlatformProps {
  /**
   * The edge in front of the platform; browsers reach tenant `t` at `https://<edge domain>/t/<t>/`, and each
   * gateway accepts only that origin.
   * @default - an edge on the distribution's own domain name
   */
  readonly edge?: PlatformEdgeOptions;

  /**
   * Availability zones of the new VPC (2 or 3); one NAT gateway in each.
   * @default 2
   */
  readonly maxAzs?: number;

  /**
   * CIDR block of the new VPC. Tenant pods never send to it except through the platform's allowlist.
   * @default '10.0.0.0/16'
   */
  readonly vpcCidr?: string;

  /**
   * The customer-managed key for Kubernetes secrets, EFS, the data bucket, secrets, logs and backups.
   * @default - a new key with rotation, retained on delete
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * Kubernetes version of the cluster.
   * @default KubernetesVersion.V1_35
   */
  readonly kubernetesVersion?: eks.KubernetesVersion;

  /**
   * The Lambda layer with kubectl for the cluster's kubectl provider; match it to `kubernetesVersion`.
   * @default - `KubectlV35Layer` when the app has `@aws-cdk/lambda-layer-kubectl-v35` (npm) or
   *   `aws-cdk.lambda-layer-kubectl-v35` (PyPI) installed; otherwise required (Maven Central has no build of it)
   */
  readonly kubectlLayer?: lambda.ILayerVersion;

  /**
   * The load balancer in front of the router: internal behind a VPC origin (default), or internet-facing and locked
   * to the edge.
   * @default - internal
   */
  readonly loadBalancer?: PlatformLoadBalancerOptions;

  /**
   * Where pods run: EKS Auto Mode, or managed node groups (Graviton by default).
   * @default PlatformCapacity.autoMode()
   */
  readonly capacity?: PlatformCapacity;

  /**
   * CIDR blocks allowed to reach the Kubernetes API endpoint from the internet. Empty: the endpoint is private
   * (reachable from the VPC only). `0.0.0.0/0` is refused.
   * @default - private endpoint only
   */
  readonly publicEndpointCidrs?: string[];

  /**
   * ARN of an IAM role (or user) given cluster-admin through an EKS access entry, for operators.
   * @default - no human administrator: only the deployment's kubectl provider can change the cluster
   */
  readonly adminPrincipalArn?: string;

  /**
   * The OpenClaw gateway image.
   * @default - ghcr.io/openclaw/openclaw at SecureOpenClawHost.DEFAULT_OPENCLAW_VERSION, no digest
   */
  readonly image?: OpenClawImageOptions;

  /**
   * Version of the EFS CSI driver add-on (`aws eks describe-addon-versions --addon-name aws-efs-csi-driver`).
   * @default - the version EKS picks for the cluster's Kubernetes version when the add-on is created
   */
  readonly efsCsiDriverVersion?: string;

  /**
   * The image of the router (an unprivileged nginx build) that sends `/t/<tenant>/` to each tenant's gateway.
   * @default - public.ecr.aws/nginx/nginx-unprivileged at OpenClawTenantPlatform.DEFAULT_ROUTER_NGINX_TAG, no digest
   */
  readonly routerImage?: OpenClawImageOptions;

  /**
   * Router pods, spread over the zones.
   * @default 2
   */
  readonly routerReplicas?: number;

  /**
   * The gateway command (the image's entry point is not relied on).
   * @default ['node', '/app/dist/index.js', 'gateway', 'run']
   */
  readonly gatewayCommand?: string[];

  /**
   * The configuration every tenant's gateway starts from. Per tenant, the platform sets the LAN bind, token
   * authentication from the tenant's secret, `controlUi.basePath` `/t/<tenant>`, the allowed origin and the
   * trusted proxies.
   * @default - OpenClawConfig's hardened defaults
   */
  readonly gatewayConfig?: OpenClawConfig;

  /**
   * Bedrock model or inference profile ids tenants may invoke. Must include every model of `gatewayConfig`.
   * @default - the models of `gatewayConfig`
   */
  readonly allowedModelIds?: string[];

  /**
   * The gateway container's requests and limits.
   * @default - 500m / 1Gi requested, 2 / 2Gi limit
   */
  readonly gatewayResources?: GatewayResourcesOptions;

  /**
   * Nested stacks that hold the tenants declared in code. A tenant's stack is chosen from a hash of its name, so
   * adding or removing other tenants never moves it (moving would recreate its secret). Stacks are created only
   * when a tenant lands in them. Each holds up to 40 tenants (three resources and about 22 KB of template each);
   * with the default, 1,000 tenants fit with room to spare. Set more before you declare more than that: changing it
   * moves tenants.
   * @default 64
   */
  readonly tenantStacks?: number;

  /**
   * Defaults of tenants added with `addTenant` (each may override them).
   * @default - 4 CPU, 8Gi, 10 pods, 100 USD a month
   */
  readonly tenantDefaults?: TenantOptions;

  /**
   * How long daily backups of the tenants' file system are kept.
   * @default Duration.days(35)
   */
  readonly backupRetention?: Duration;

  /**
   * Lock the backup vault (compliance mode) so that no one, the account root included, can delete recovery points
   * before `backupRetention` ends. Irreversible after a 3-day grace period.
   * @default false
   */
  readonly backupVaultLock?: boolean;

  /**
   * Where the platform's alarms go (pods restarting or pending, the router down, Bedrock throttling or slow).
   * @default - a new topic encrypted with the platform key
   */
  readonly alarmTopic?: sns.ITopic;

  /**
   * E-mail addresses subscribed to the alarm topic.
   * @default - none
   */
  readonly alarmEmails?: string[];

  /**
   * The Bedrock audit trail that records the tenants' model calls (the tenant role becomes an expected caller).
   * @default BedrockAudit.newTrail({ cloudWatchLogs: true }) - a new trail encrypted with the platform key, also
   *   delivered to CloudWatch Logs, alarming to the platform topic on denied calls
   */
  readonly bedrockAudit?: BedrockAudit;

  /**
   * Version of the Amazon CloudWatch Observability add-on (Container Insights).
   * @default - the version EKS picks for the cluster's Kubernetes version when the add-on is created
   */
  readonly cloudWatchObservabilityVersion?: string;

  /**
   * Retention of the VPC flow logs.
   * @default RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * Tenant self-service: people sign up (or administrators create them) in a Cognito user pool, sign in on
   * `https://<edge>/auth/` and get their own gateway, provisioned on confirmation; sign-out, token rotation and
   * removal with an export of the tenant's files first. See docs/self-service.md.
   * @default - no self-service: tenants are declared in code with `addTenant`
   */
  readonly selfService?: SelfServiceOptions;

  /**
   * Per-tenant Bedrock budgets: spend measured from Bedrock model invocation logs every hour, alerts at 80 % and
   * 100 % of each tenant's `budgetUsd`, and at 100 % the tenant's Bedrock access denied until the month ends or its
   * budget is raised. Needs model invocation logging, which the platform's own audit trail turns on. See
   * docs/budgets.md.
   * @default - on, with the defaults of `TenantBudgetOptions`
   */
  readonly budgets?: TenantBudgetOptions;
}

/** What a tenant added to the platform consists of. */
export class OpenClawTenant extends Construct {
  /** @internal */
  public static _create(scope: Construct, id: string, platform: OpenClawTenantPlatform, rendered: RenderedTenant, spec: TenantSpec): OpenClawTenant {
    return new OpenClawTenant(scope, id, platform, rendered, spec);
  }

  /** The tenant's name (a DNS label). */
  public readonly tenantName: string;
  /** The tenant's namespace, `openclaw-<tenant>`. */
  public readonly namespace: string;
  /** The gateway token, `openclaw/<tenant>/gateway-token`, tagged `tenant-namespace` and `budget-usd`. */
  public readonly gatewayTokenSecret: secretsmanager.ISecret;
  /** The Kubernetes objects of the tenant, as applied (the tenant renderer's output). */
  public readonly manifests: any[];

  private constructor(scope: Construct, id: string, platform: OpenClawTenantPlatform, rendered: RenderedTenant, spec: TenantSpec) {
    super(scope, id);
    this.tenantName = rendered.tenant;
    this.namespace = rendered.namespace;
    this.manifests = rendered.objects;

    const secret = new secretsmanager.Secret(this, 'GatewayToken', {
      secretName: rendered.gatewayTokenSecretName,
      description: `OpenClaw gateway token of tenant ${rendered.tenant}`,
      encryptionKey: platform.encryptionKey,
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(secret, ['AwsSolutions-SMG4', 'HIPAA.Security-SecretsManagerRotationEnabled', 'NIST.800.53.R5-SecretsManagerRotationEnabled'],
      'The gateway token is the tenant\'s sign-in secret, read by the gateway when it starts: rotate it by putting a new value and restarting the tenant\'s deployment (docs/tenant-platform.md). Scheduled rotation that keeps sessions is part of the self-service option.');
    Tags.of(secret).add(TAG_TENANT_NAMESPACE, rendered.namespace);
    Tags.of(secret).add(TAG_BUDGET_USD, String(spec.budgetUsd));
    this.gatewayTokenSecret = secret;

    const association = new CfnPodIdentityAssociation(this, 'PodIdentity', {
      clusterName: platform.cluster.clusterName,
      namespace: rendered.namespace,
      serviceAccount: rendered.serviceAccount,
      roleArn: platform.tenantRole.roleArn,
    });
    const manifest = new eks.KubernetesManifest(this, 'Manifests', {
      cluster: platform.cluster,
      manifest: rendered.objects,
      overwrite: true,
      // Tenant state lives on EFS and in Secrets Manager: removing the tenant from code removes its workloads,
      // never its data (the volume's directory, the access point and the secret are retained).
      prune: true,
    });
    // The gateway's first start resolves its token and assumes its role: both must exist first.
    manifest.node.addDependency(secret, association, platform._clusterReady);
  }
}

/**
 * Multi-tenant OpenClaw on Amazon EKS: one gateway per tenant in its own namespace, isolated by network policy,
 * quotas and attribute-based IAM, reaching Amazon Bedrock through EKS Pod Identity with no API keys, with state on
 * encrypted EFS backed up daily.
 */
export class OpenClawTenantPlatform extends Construct {
  /** The nginx-unprivileged release the router runs by default. */
  public static readonly DEFAULT_ROUTER_NGINX_TAG = '1.30.4-alpine';

  /** The EKS cluster. */
  public readonly cluster: eks.Cluster;
  /** The VPC. */
  public readonly vpc: ec2.IVpc;
  /** The customer-managed key of the platform. */
  public readonly encryptionKey: kms.IKey;
  /** The one role every tenant's gateway assumes through Pod Identity; its policies isolate tenants by namespace tag. */
  public readonly tenantRole: iam.Role;
  /**
   * The role tenants' gateways call Bedrock with: the tenant role may assume it only with its own namespace as the
   * session name, so every Bedrock call (in CloudTrail and in the invocation logs) names its tenant, and a budget
   * block can deny one tenant.
   */
  public readonly bedrockRole: iam.Role;
  /** The shared data bucket: each tenant reads and writes only under `<namespace>/`. */
  public readonly dataBucket: s3.Bucket;
  /** The file system holding every tenant's state (one access point and directory per tenant). */
  public readonly fileSystem: efs.FileSystem;
  /** The backup vault of the file system. */
  public readonly backupVault: backup.BackupVault;
  /** The Bedrock model and inference profile ids tenants may invoke. */
  public readonly allowedModelIds: string[];
  /** The internal load balancer in front of the router (reachable only through the edge's VPC origin). */
  public readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  /** The edge: CloudFront and its web ACL. */
  public readonly edge: OpenClawEdge;
  /** The origin browsers use, `https://<edge domain>`. */
  public readonly publicOrigin: string;
  /** The router's Kubernetes service, `<name>.<namespace>` (all tenants are reached through it). */
  public readonly routerService: string;
  /** The topic of the platform's alarms. */
  public readonly alarmTopic: sns.ITopic;
  /** The ARNs of the platform's alarms. */
  public readonly alarmArns: string[];
  /** The Bedrock audit trail of the tenants' model calls. */
  public readonly bedrockAuditTrail: BedrockAuditTrail;
  /** Tenant self-service, when `selfService` is set. */
  public readonly selfService?: TenantSelfService;
  /** Per-tenant Bedrock budgets, unless `budgets.enabled` is false. */
  public readonly budgets?: TenantBudgets;

  /**
   * A monthly list-price estimate of the platform with the tenants added so far (us-east-1 prices, stated
   * assumptions; model usage not included). See docs/cost.md.
   */
  public get estimatedMonthlyCost(): CostEstimate {
    return estimatePlatformCost({
      zones: this.zones,
      tenants: this.tenantsByName.size,
      routerReplicas: this.routerReplicas,
      alarms: this.alarmArns.length,
      ownKey: this.ownKey,
      auditTrail: this.auditTrailCreated ? { cloudWatchLogs: this.auditTrailCloudWatchLogs } : undefined,
      edge: this.edge.estimatedMonthlyCost,
      nodeGroup: this.nodeGroupCost,
      selfService: this.selfService ? { maxTenants: this.selfService._maxTenants } : undefined,
      budgets: this.budgets ? { runsPerMonth: this.budgets._runsPerMonth } : undefined,
    });
  }
  /** @internal */
  public readonly _clusterReady: DependencyGroup;

  private readonly spec: PlatformSpec;
  private readonly zones: number;
  private readonly nodeGroupCost?: { instanceType: string; nodes: number };
  private readonly routerReplicas: number;
  private readonly ownKey: boolean;
  private readonly auditTrailCreated: boolean;
  private readonly auditTrailCloudWatchLogs: boolean;
  private readonly tenantStackCount: number;
  private readonly shards = new Map<number, { stack: NestedStack; tenants: number }>();
  /** Quota and budget of a tenant that sets none: `tenantDefaults`, else the platform defaults. */
  private readonly defaultSpec: Omit<TenantSpec, 'name'>;
  private readonly tenantsByName = new Map<string, OpenClawTenant>();

  constructor(scope: Construct, id: string, props: OpenClawTenantPlatformProps = {}) {
    super(scope, id);
    const maxAzs = props.maxAzs ?? 2;
    checkIntegerRange(this, 'maxAzs', maxAzs, 2, 3);
    if (maxAzs === 3 && Stack.of(this).availabilityZones.length < 3) {
      Annotations.of(this).addWarningV2('cdk-openclaw:three-zones',
        'maxAzs is 3 but this stack can see only 2 zones: an environment-agnostic stack gets two. Give the stack an account and region for three.');
    }
    const vpcCidr = props.vpcCidr ?? '10.0.0.0/16';
    if (!isIpv4Cidr(vpcCidr) || Number(vpcCidr.split('/')[1]) > 20 || Number(vpcCidr.split('/')[1]) < 16) {
      invalidProp(this, 'vpcCidr', vpcCidr, 'an IPv4 CIDR block from /16 to /20 (room for a /22 or larger private subnet per zone)');
    }
    const publicCidrs = props.publicEndpointCidrs ?? [];
    for (const cidr of publicCidrs) {
      if (Token.isUnresolved(cidr) || !isIpv4Cidr(cidr)) invalidProp(this, 'publicEndpointCidrs', cidr, 'IPv4 CIDR blocks such as 203.0.113.0/24');
      if (cidr.endsWith('/0')) invalidProp(this, 'publicEndpointCidrs', cidr, 'CIDR blocks of your own networks, not the whole internet (leave the prop empty for a private endpoint)');
    }
    if (props.adminPrincipalArn !== undefined && !Token.isUnresolved(props.adminPrincipalArn)
      && !/^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/.+$/.test(props.adminPrincipalArn)) {
      invalidProp(this, 'adminPrincipalArn', props.adminPrincipalArn, 'the ARN of an IAM role or user');
    }
    checkLogRetention(this, 'logRetention', props.logRetention);
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_YEAR;
    checkEmails(this, 'alarmEmails', props.alarmEmails);
    const retention = props.backupRetention ?? Duration.days(35);
    if (!Token.isUnresolved(retention.toDays()) && (retention.toDays() < 1 || retention.toDays() > 36500)) {
      invalidProp(this, 'backupRetention', `${retention.toDays()} days`, 'from 1 to 36500 days');
    }
    const image = renderImage(this, 'image', props.image ?? {}, 'ghcr.io/openclaw/openclaw', SecureOpenClawHost.DEFAULT_OPENCLAW_VERSION);
    const routerImage = renderImage(this, 'routerImage', props.routerImage ?? {}, 'public.ecr.aws/nginx/nginx-unprivileged', OpenClawTenantPlatform.DEFAULT_ROUTER_NGINX_TAG);
    const routerReplicas = props.routerReplicas ?? 2;
    checkIntegerRange(this, 'routerReplicas', routerReplicas, 1, 20);
    this.routerReplicas = routerReplicas;
    this.zones = maxAzs;
    this.ownKey = props.encryptionKey === undefined;
    this.auditTrailCreated = props.bedrockAudit === undefined;
    this.auditTrailCloudWatchLogs = props.bedrockAudit === undefined;
    const gatewayResources: GatewayResources = { ...DEFAULT_GATEWAY_RESOURCES, ...withoutUndefined(props.gatewayResources ?? {}) };
    // Validated now with a stand-in origin; the edge's real origin is set once the edge exists.
    const baseConfig = props.gatewayConfig ?? new OpenClawConfig();
    const gatewayConfig = (origin: string) => baseConfig.withGateway({
      bind: GatewayBind.LAN,
      trustedProxies: [vpcCidr],
      controlUi: { ...baseConfig.props.gateway?.controlUi, allowedOrigins: [origin] },
    });
    this.allowedModelIds = checkModels(this, gatewayConfig('https://openclaw.example.com'), props.allowedModelIds);
    const given = props.tenantDefaults ?? {};
    this.defaultSpec = {
      cpu: given.cpu ?? DEFAULT_TENANT_QUOTA.cpu,
      memory: given.memory ?? DEFAULT_TENANT_QUOTA.memory,
      pods: given.maxPods ?? DEFAULT_TENANT_QUOTA.pods,
      budgetUsd: given.budgetUsd ?? DEFAULT_BUDGET_USD,
    };
    this.tenantStackCount = props.tenantStacks ?? 64;
    checkIntegerRange(this, 'tenantStacks', this.tenantStackCount, 1, 400);
    this.checkDefaults(gatewayResources);

    this.encryptionKey = resolveKey(this, 'Key', props.encryptionKey, { description: 'OpenClaw tenant platform: Kubernetes secrets, file system, data, tokens, logs, backups' });
    allowLogsService(this.encryptionKey);
    this.vpc = createVpc(this, 'Vpc', {
      key: this.encryptionKey,
      flowLogRetention: logRetention,
      nat: NatStrategy.GATEWAY,
      natPerAz: true,
      maxAzs,
      cidr: vpcCidr,
      privateCidrMask: Number(vpcCidr.split('/')[1]) + 3,
      interfaceEndpoints: false,
    });
    const privateSubnets = this.vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS });

    // --- cluster -------------------------------------------------------------------------------------------------
    const capacity = props.capacity ?? PlatformCapacity.autoMode();
    const autoMode = capacity.mode === 'auto-mode';
    const nodeGroupOptions = checkNodeGroups(this, capacity.nodeGroupOptions ?? {});
    this.nodeGroupCost = autoMode ? undefined : { instanceType: nodeGroupOptions.instanceTypes[0].toString(), nodes: nodeGroupOptions.minSize };
    const nodeRole = new iam.Role(this, 'NodeRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: autoMode ? 'EKS Auto Mode nodes of the OpenClaw tenant platform' : 'Managed node group of the OpenClaw tenant platform',
      managedPolicies: (autoMode
        ? ['AmazonEKSWorkerNodeMinimalPolicy', 'AmazonEC2ContainerRegistryPullOnly']
        : ['AmazonEKSWorkerNodePolicy', 'AmazonEC2ContainerRegistryPullOnly', 'AmazonEKS_CNI_Policy'])
        .map((name) => iam.ManagedPolicy.fromAwsManagedPolicyName(name)),
    });
    this.cluster = new eks.Cluster(this, 'Cluster', {
      version: props.kubernetesVersion ?? eks.KubernetesVersion.V1_35,
      vpc: this.vpc,
      vpcSubnets: [{ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }],
      defaultCapacityType: autoMode ? eks.DefaultCapacityType.AUTOMODE : eks.DefaultCapacityType.NODEGROUP,
      defaultCapacity: autoMode ? undefined : 0,
      // Only the system pool of Auto Mode: every workload of ours runs in the platform's own node pool, whose node
      // class enforces network policies.
      compute: autoMode ? { nodePools: ['system'], nodeRole } : undefined,
      // With node groups, the networking add-ons are EKS add-ons the platform configures (network policies on).
      bootstrapSelfManagedAddons: autoMode ? undefined : false,
      albController: autoMode ? undefined : { version: eks.AlbControllerVersion.V2_8_2 },
      // A fixed service range, so that network policies can name the cluster DNS address and exclude the rest.
      serviceIpv4Cidr: SERVICE_CIDR,
      secretsEncryptionKey: this.encryptionKey,
      clusterLogging: [
        eks.ClusterLoggingTypes.API, eks.ClusterLoggingTypes.AUDIT, eks.ClusterLoggingTypes.AUTHENTICATOR,
        eks.ClusterLoggingTypes.CONTROLLER_MANAGER, eks.ClusterLoggingTypes.SCHEDULER,
      ],
      endpointAccess: publicCidrs.length === 0 ? eks.EndpointAccess.PRIVATE : eks.EndpointAccess.PUBLIC_AND_PRIVATE.onlyFrom(...publicCidrs),
      // The deployment's own kubectl provider gets its access entry; nobody else is an administrator unless named.
      bootstrapClusterCreatorAdminPermissions: false,
      kubectlProviderOptions: { kubectlLayer: props.kubectlLayer ?? defaultKubectlLayer(this) },
    });
    if (props.adminPrincipalArn !== undefined) {
      this.cluster.grantClusterAdmin('Administrator', props.adminPrincipalArn);
    }
    let clusterWide: eks.KubernetesManifest;
    const networkAddons: eks.Addon[] = [];
    if (autoMode) {
      clusterWide = this.cluster.addManifest('NetworkPolicies', ...networkPolicyObjects({
        nodeRoleName: nodeRole.roleName,
        subnetIds: privateSubnets.subnetIds,
        securityGroupId: this.cluster.clusterSecurityGroupId,
      }), ...PLATFORM_NAMESPACE_OBJECTS);
    } else {
      // The VPC CNI enforces network policies; versions are the ones EKS picks for the cluster's Kubernetes version.
      networkAddons.push(
        new eks.Addon(this, 'VpcCni', { cluster: this.cluster, addonName: 'vpc-cni', configurationValues: { enableNetworkPolicy: 'true' } }),
        new eks.Addon(this, 'CoreDns', { cluster: this.cluster, addonName: 'coredns' }),
        new eks.Addon(this, 'KubeProxy', { cluster: this.cluster, addonName: 'kube-proxy' }),
        new eks.Addon(this, 'PodIdentityAgent', { cluster: this.cluster, addonName: 'eks-pod-identity-agent' }),
      );
      // Nodes: IMDSv2 only, one hop (pods cannot reach the metadata service), encrypted root volumes.
      const launchTemplate = new ec2.LaunchTemplate(this, 'NodeLaunchTemplate', {
        requireImdsv2: true,
        httpPutResponseHopLimit: 1,
        blockDevices: [{ deviceName: '/dev/xvda', volume: ec2.BlockDeviceVolume.ebs(80, { encrypted: true, volumeType: ec2.EbsDeviceVolumeType.GP3 }) }],
      });
      const nodes = this.cluster.addNodegroupCapacity('Nodes', {
        instanceTypes: nodeGroupOptions.instanceTypes,
        amiType: nodeGroupOptions.arm ? eks.NodegroupAmiType.AL2023_ARM_64_STANDARD : eks.NodegroupAmiType.AL2023_X86_64_STANDARD,
        subnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
        nodeRole,
        launchTemplateSpec: { id: launchTemplate.launchTemplateId!, version: launchTemplate.latestVersionNumber },
        minSize: nodeGroupOptions.minSize,
        maxSize: nodeGroupOptions.maxSize,
        desiredSize: nodeGroupOptions.minSize,
      });
      // Nodes join only once the network add-ons exist (otherwise they stay NotReady); CoreDNS needs nodes to run on.
      const [vpcCni, coreDns, kubeProxy, podIdentityAgent] = networkAddons;
      nodes.node.addDependency(vpcCni, kubeProxy, podIdentityAgent);
      coreDns.node.addDependency(nodes);
      clusterWide = this.cluster.addManifest('NetworkPolicies', ...PLATFORM_NAMESPACE_OBJECTS);
      clusterWide.node.addDependency(...networkAddons);
    }

    // --- tenant state: EFS with one access point per tenant, backed up daily ----------------------------------
    this.fileSystem = new efs.FileSystem(this, 'FileSystem', {
      vpc: this.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      encrypted: true,
      kmsKey: this.encryptionKey,
      performanceMode: efs.PerformanceMode.GENERAL_PURPOSE,
      throughputMode: efs.ThroughputMode.ELASTIC,
      lifecyclePolicy: efs.LifecyclePolicy.AFTER_30_DAYS,
      removalPolicy: RemovalPolicy.RETAIN,
      enableAutomaticBackups: false,
      // Not anonymous access: it only stops CDK adding its own statement (root and write access for any principal
      // through a mount target). The policy below is the whole policy, and it grants nothing to anonymous clients.
      allowAnonymousAccess: true,
    });
    // Mount targets admit NFS from the cluster's nodes only.
    this.fileSystem.connections.allowFrom(
      ec2.Peer.securityGroupId(this.cluster.clusterSecurityGroupId), ec2.Port.tcp(2049), 'NFS from the EKS nodes only');
    const csiRole = new iam.Role(this, 'EfsCsiDriverRole', {
      assumedBy: podIdentityPrincipal(),
      description: 'EFS CSI driver of the OpenClaw tenant platform (Pod Identity)',
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonEFSCSIDriverPolicy')],
    });
    scopeTrust(csiRole, this.cluster);
    this.fileSystem.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'DenyWithoutTls',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['*'],
      conditions: { Bool: { 'aws:SecureTransport': 'false' } },
    }));
    this.fileSystem.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'MountThroughMountTargetsOnly',
      principals: [new iam.ArnPrincipal(nodeRole.roleArn)],
      actions: ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite'],
      conditions: { Bool: { 'elasticfilesystem:AccessedViaMountTarget': 'true' } },
    }));
    // The add-on version EKS recommends for the cluster's Kubernetes version, unless pinned.
    const efsAddon = new eks.Addon(this, 'EfsCsiDriver', { cluster: this.cluster, addonName: 'aws-efs-csi-driver', addonVersion: props.efsCsiDriverVersion });
    // The controller creates and deletes access points with its own role; mounts are made by the nodes (the node
    // daemon runs on the host network with the node's credentials).
    (efsAddon.node.defaultChild as CfnAddon).podIdentityAssociations = [
      { serviceAccount: 'efs-csi-controller-sa', roleArn: csiRole.roleArn },
    ];
    const storage = this.cluster.addManifest('StorageClass', storageClass(this.fileSystem.fileSystemId));
    storage.node.addDependency(efsAddon);
    const router = this.cluster.addManifest('Router', ...renderRouter({ image: routerImage, vpcCidr, replicas: routerReplicas, clusterDnsIp: CLUSTER_DNS_IP }));
    router.node.addDependency(clusterWide);
    this.routerService = `${ROUTER_NAME}.openclaw-system`;

    // --- ingress: edge -> VPC origin -> internal load balancer -> router pods (one target group, any number of tenants)
    const accessLogs = accessLogBucket(this, 'AccessLogs');
    const lbOptions = props.loadBalancer ?? {};
    const internetFacing = lbOptions.internetFacing ?? false;
    checkLoadBalancerOptions(this, lbOptions, internetFacing);
    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc: this.vpc,
      vpcSubnets: { subnetType: internetFacing ? ec2.SubnetType.PUBLIC : ec2.SubnetType.PRIVATE_WITH_EGRESS },
      internetFacing,
      dropInvalidHeaderFields: true,
      http2Enabled: true,
      idleTimeout: Duration.seconds(300),
    });
    enableAccessLogs(this.loadBalancer, accessLogs, 'load-balancer');
    const targets = new elbv2.ApplicationTargetGroup(this, 'RouterTargets', {
      vpc: this.vpc,
      port: ROUTER_PORT,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targetType: elbv2.TargetType.IP,
      deregistrationDelay: Duration.seconds(30),
      healthCheck: { path: '/healthz', healthyHttpCodes: '200', interval: Duration.seconds(15) },
    });
    Tags.of(targets).add('eks:eks-cluster-name', this.cluster.clusterName);
    let origin: EdgeOrigin;
    if (internetFacing) {
      const domainName = lbOptions.domainName!;
      const certificate = lbOptions.certificate ?? new acm.Certificate(this, 'OriginCertificate', {
        domainName,
        validation: acm.CertificateValidation.fromDns(lbOptions.hostedZone),
      });
      this.loadBalancer.addListener('Https', {
        port: 443,
        protocol: elbv2.ApplicationProtocol.HTTPS,
        certificates: [certificate],
        sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
        open: false,
        defaultTargetGroups: [targets],
      });
      if (lbOptions.hostedZone) {
        new route53.ARecord(this, 'OriginAlias', {
          zone: lbOptions.hostedZone,
          recordName: domainName,
          target: route53.RecordTarget.fromAlias(new route53Targets.LoadBalancerTarget(this.loadBalancer)),
        });
      }
      const acl = createRegionalWebAcl(this, {}, this.encryptionKey, logRetention);
      new wafv2.CfnWebACLAssociation(this, 'WebAclAssociation', { resourceArn: this.loadBalancer.loadBalancerArn, webAclArn: acl.webAcl.attrArn });
      origin = EdgeOrigin._lockedLoadBalancer({
        loadBalancer: this.loadBalancer,
        domainName,
        webAcl: acl.webAcl,
        rules: acl.rules,
        visibility: acl.visibility,
        rotation: lbOptions.headerRotation ?? Duration.days(30),
      });
    } else {
      this.loadBalancer.addListener('Http', { port: 80, protocol: elbv2.ApplicationProtocol.HTTP, open: false, defaultTargetGroups: [targets] });
      origin = EdgeOrigin._internalLoadBalancer(this.loadBalancer, 80);
    }
    // Router pods sit behind the cluster security group (Auto Mode nodes carry it): admit the load balancer there.
    this.loadBalancer.connections.allowTo(this.cluster.clusterSecurityGroup, ec2.Port.tcp(ROUTER_PORT), 'OpenClaw router pods');
    const binding = this.cluster.addManifest('RouterTargetGroupBinding', {
      // Auto Mode's own binding, or the AWS Load Balancer Controller's with node groups.
      apiVersion: autoMode ? 'eks.amazonaws.com/v1' : 'elbv2.k8s.aws/v1beta1',
      kind: 'TargetGroupBinding',
      metadata: { name: ROUTER_NAME, namespace: 'openclaw-system' },
      spec: { serviceRef: { name: ROUTER_NAME, port: ROUTER_PORT }, targetGroupARN: targets.targetGroupArn, targetType: 'ip' },
    });
    binding.node.addDependency(router);
    if (this.cluster.albController) binding.node.addDependency(this.cluster.albController);
    acknowledgeLoadBalancer(this.loadBalancer, internetFacing);

    const edgeOptions = props.edge ?? {};
    if (edgeOptions.domainName === undefined) {
      Annotations.of(this).addWarningV2('cdk-openclaw:edge-default-certificate',
        'edge.domainName is not set: browsers reach the platform on the distribution\'s *.cloudfront.net name, whose default certificate also accepts TLS 1.0 and 1.1. Set edge.domainName (with edge.hostedZone or edge.certificate) for TLS 1.2 and later only.');
    }
    this.edge = new OpenClawEdge(this, 'Edge', {
      origin,
      domainName: edgeOptions.domainName,
      certificate: edgeOptions.certificate,
      hostedZone: edgeOptions.hostedZone,
      firewall: edgeOptions.firewall,
      priceClass: edgeOptions.priceClass,
      encryptionKey: this.encryptionKey,
    });
    this.publicOrigin = `https://${edgeOptions.domainName ?? this.edge.distributionDomainName}`;
    const config = gatewayConfig(this.publicOrigin);

    this.backupVault = new backup.BackupVault(this, 'BackupVault', {
      encryptionKey: this.encryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
      lockConfiguration: props.backupVaultLock ? { minRetention: retention, changeableFor: Duration.days(3) } : undefined,
    });
    const plan = new backup.BackupPlan(this, 'BackupPlan', { backupVault: this.backupVault });
    plan.addRule(new backup.BackupPlanRule({
      ruleName: 'Daily',
      scheduleExpression: events.Schedule.cron({ hour: '3', minute: '0' }),
      startWindow: Duration.hours(1),
      completionWindow: Duration.hours(8),
      deleteAfter: retention,
    }));
    const selection = plan.addSelection('TenantState', { resources: [backup.BackupResource.fromEfsFileSystem(this.fileSystem)], allowRestores: true });
    acknowledgeBackupSelection(selection);

    // --- the shared tenant role (ABAC on the namespace session tag) and the data bucket -------------------------
    this.dataBucket = secureBucket(this, 'DataBucket', { key: this.encryptionKey, accessLogs, accessLogsPrefix: 'data/' });
    this.tenantRole = new iam.Role(this, 'TenantRole', {
      assumedBy: podIdentityPrincipal(),
      description: 'Every OpenClaw tenant gateway (Pod Identity); access is keyed on the kubernetes-namespace session tag',
    });
    scopeTrust(this.tenantRole, this.cluster);
    this.bedrockRole = this.createBedrockRole();
    this.grantTenantAccess();

    // --- observability: Container Insights, alarms, the Bedrock audit trail ------------------------------------
    const agentRole = new iam.Role(this, 'CloudWatchAgentRole', {
      assumedBy: podIdentityPrincipal(),
      description: 'CloudWatch agent of the OpenClaw tenant platform (Container Insights, Pod Identity)',
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('CloudWatchAgentServerPolicy')],
    });
    scopeTrust(agentRole, this.cluster);
    const observability = new eks.Addon(this, 'CloudWatchObservability', {
      cluster: this.cluster, addonName: 'amazon-cloudwatch-observability', addonVersion: props.cloudWatchObservabilityVersion,
    });
    (observability.node.defaultChild as CfnAddon).podIdentityAssociations = [{ serviceAccount: 'cloudwatch-agent', roleArn: agentRole.roleArn }];
    this.alarmTopic = alarmTopic(this, 'AlarmTopic', this.encryptionKey, { given: props.alarmTopic, emails: props.alarmEmails });
    const monitoring = new PlatformMonitoring(this, 'Monitoring', {
      clusterName: this.cluster.clusterName,
      topic: this.alarmTopic,
      modelIds: this.allowedModelIds,
      quota: {
        memoryBytes: parseQuantity(this.defaultSpec.memory)!,
        pods: this.defaultSpec.pods,
      },
    });
    this.alarmArns = monitoring.alarms.map((a) => a.alarmArn);
    // By default the trail also goes to CloudWatch Logs, so that denied Bedrock calls of any tenant raise an alarm,
    // and with budgets it turns on model invocation logging, which the budgets are measured from.
    const budgetsEnabled = props.budgets?.enabled ?? true;
    this.bedrockAuditTrail = (props.bedrockAudit ?? BedrockAudit.newTrail({
      cloudWatchLogs: true,
      modelInvocationLogging: budgetsEnabled ? { cloudWatchLogs: true, logRetention } : undefined,
    }))._bind(this, { key: this.encryptionKey, role: this.bedrockRole, alarmTopic: this.alarmTopic });

    acknowledgeServiceRoles({ cluster: this.cluster.role, node: nodeRole, efsCsi: csiRole, cloudWatchAgent: agentRole });
    acknowledgeKubectlProvider(this.cluster);
    acknowledgeAlbController(this.cluster);
    this.acknowledgeTenantRole();

    // Tenants are applied after the cluster-wide objects they rely on.
    this._clusterReady = new DependencyGroup(clusterWide, storage);

    this.spec = {
      image,
      command: props.gatewayCommand ?? ['node', '/app/dist/index.js', 'gateway', 'run'],
      region: Stack.of(this).region,
      vpcCidr,
      serviceCidr: SERVICE_CIDR,
      clusterDnsIp: CLUSTER_DNS_IP,
      publicOrigin: this.publicOrigin,
      routerPodLabels: ROUTER_POD_LABELS,
      storageClassName: STORAGE_CLASS_NAME,
      storageSize: '10Gi',
      gatewayResources,
      openclawConfig: config._toObject(this),
      bedrockRoleArn: this.bedrockRole.roleArn,
    };

    if (props.selfService) {
      this.selfService = TenantSelfService._create(this, 'SelfService', props.selfService, {
        vpc: this.vpc,
        cluster: this.cluster,
        key: this.encryptionKey,
        tenantRole: this.tenantRole,
        fileSystem: this.fileSystem,
        edge: this.edge,
        alarmTopic: this.alarmTopic,
        accessLogs,
        platformSpec: this.spec,
        tenantDefaults: this.defaultSpec,
        logRetention,
      });
      this.alarmArns.push(...this.selfService.alarmArns);
    }

    if (budgetsEnabled) {
      const invocationLogGroup = this.bedrockAuditTrail.invocationLogGroup;
      if (!invocationLogGroup) {
        invalidProp(this, 'bedrockAudit', 'a trail without model invocation logging to CloudWatch Logs',
          'a trail with modelInvocationLogging (cloudWatchLogs on), which budgets are measured from, or budgets: { enabled: false }');
      }
      this.budgets = TenantBudgets._create(this, 'Budgets', props.budgets ?? {}, {
        vpc: this.vpc,
        key: this.encryptionKey,
        bedrockRole: this.bedrockRole,
        invocationLogGroup,
        alarmTopic: this.alarmTopic,
        defaultBudgetUsd: this.defaultSpec.budgetUsd,
        allowedModelIds: this.allowedModelIds,
        logRetention,
        secretPrefix: TENANT_SECRET_PREFIX,
      });
      this.alarmArns.push(...this.budgets.alarms.map((a) => a.alarmArn));
    } else if (props.budgets && Object.entries(props.budgets).some(([k, v]) => k !== 'enabled' && v !== undefined)) {
      invalidProp(this, 'budgets.enabled', false, 'true (the default) when other budget options are given');
    }
  }

  /**
   * Adds a tenant declared in code: its gateway-token secret, its Pod Identity association and its Kubernetes
   * objects (three CloudFormation resources).
   *
   * @param name a DNS label of at most 54 characters (the namespace is `openclaw-<name>`)
   */
  public addTenant(name: string, options: TenantOptions = {}): OpenClawTenant {
    if (Token.isUnresolved(name)) invalidProp(this, 'addTenant name', name, 'a literal tenant name (it names CloudFormation resources)');
    if (this.tenantsByName.has(name)) invalidProp(this, 'addTenant name', name, 'a tenant name not added before');
    const spec: TenantSpec = {
      name,
      cpu: options.cpu ?? this.defaultSpec.cpu,
      memory: options.memory ?? this.defaultSpec.memory,
      pods: options.maxPods ?? this.defaultSpec.pods,
      budgetUsd: options.budgetUsd ?? this.defaultSpec.budgetUsd,
    };
    let rendered: RenderedTenant;
    try {
      rendered = renderTenant(spec, this.spec);
    } catch (e) {
      if (e instanceof SpecError) invalidProp(this, e.prop, e.value, e.allowed);
      throw e;
    }
    const tenant = OpenClawTenant._create(this.shardFor(name), `Tenant-${name}`, this, rendered, spec);
    this.tenantsByName.set(name, tenant);
    return tenant;
  }

  /** The tenants added so far, in order. */
  public get tenants(): OpenClawTenant[] {
    return [...this.tenantsByName.values()];
  }

  /** The nested stack of a tenant: fixed by its name, created with its first tenant. */
  private shardFor(name: string): Construct {
    const index = fnv1a(name) % this.tenantStackCount;
    let shard = this.shards.get(index);
    if (!shard) {
      const stack = new NestedStack(this, `Tenants${index}`, { description: `OpenClaw tenants, shard ${index} of ${this.tenantStackCount}` });
      shard = { stack, tenants: 0 };
      this.shards.set(index, shard);
    }
    if (shard.tenants >= MAX_TENANTS_PER_STACK) {
      invalidProp(this, 'tenantStacks', this.tenantStackCount,
        `more stacks: tenant '${name}' would be tenant ${shard.tenants + 1} of stack Tenants${index}, over its ${MAX_TENANTS_PER_STACK} (template size). Raise tenantStacks before tenants are deployed: changing it moves tenants`);
    }
    shard.tenants++;
    return shard.stack;
  }

  private checkDefaults(gatewayResources: GatewayResources): void {
    try {
      validateTenantSpec({ name: 'defaults', ...this.defaultSpec }, gatewayResources);
    } catch (e) {
      if (e instanceof SpecError) invalidProp(this, e.prop.replace("tenant 'defaults' ", 'tenantDefaults.'), e.value, e.allowed);
      throw e;
    }
  }

  private acknowledgeTenantRole(): void {
    const policy = this.tenantRole.node.tryFindChild('DefaultPolicy');
    if (!policy) return;
    const bucketId = Stack.of(this).resolve((this.dataBucket.node.defaultChild as s3.CfnBucket).logicalId);
    const reasons: Array<[string, string]> = [
      ['Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:openclaw/*',
        'Tenant secrets are found by tag, not by name: the statement allows only secrets whose tenant-namespace tag equals the caller\'s kubernetes-namespace session tag (ABAC).'],
      [`Resource::<${bucketId}.Arn>/<aws:PrincipalTag/kubernetes-namespace>/*`,
        'Each tenant reaches only the objects under its own namespace prefix, resolved from its Pod Identity session tag.'],
    ];
    for (const [finding, reason] of reasons) acknowledge(policy, [`AwsSolutions-IAM5[${finding}]`], reason);
    acknowledge(policy, INLINE_POLICY_RULES,
      'The tenant role\'s policy is its own (ABAC on the namespace session tag): a managed policy would let it be attached elsewhere.');
  }

  /**
   * The role tenants call Bedrock with. Its trust lets the tenant role assume it only with a session name equal to
   * the caller's `kubernetes-namespace` session tag (the gateway's AWS config file names it), so the session name in
   * every Bedrock call names the tenant. A permissions boundary keeps it to running models whatever a policy
   * attached to it says (the budget function rewrites the block policies).
   */
  private createBedrockRole(): iam.Role {
    const ns = '${aws:PrincipalTag/kubernetes-namespace}';
    const boundary = new iam.ManagedPolicy(this, 'BedrockRoleBoundary', {
      description: 'OpenClaw tenant platform: the most the tenants\' Bedrock role can ever do (run and list Bedrock models)',
      statements: [new iam.PolicyStatement({
        sid: 'RunAndListBedrockModels',
        actions: [...BEDROCK_INVOKE_ACTIONS, ...BEDROCK_DISCOVERY_ACTIONS],
        resources: ['*'],
      })],
    });
    acknowledge(boundary, ['AwsSolutions-IAM5[Resource::*]'],
      'A permissions boundary: it grants nothing by itself; the role\'s own policy names the allowed models.');
    const role = new iam.Role(this, 'BedrockRole', {
      assumedBy: new iam.ArnPrincipal(this.tenantRole.roleArn).withConditions({
        StringEquals: { 'sts:RoleSessionName': ns },
      }),
      description: 'Every OpenClaw tenant gateway calls Bedrock with this role, its namespace as the session name',
      maxSessionDuration: Duration.hours(1),
      permissionsBoundary: boundary,
    });
    // Pod Identity's session tags are transitive: assuming this role passes them on, which needs sts:TagSession.
    role.assumeRolePolicy!.addStatements(new iam.PolicyStatement({
      actions: ['sts:TagSession'],
      principals: [new iam.ArnPrincipal(this.tenantRole.roleArn)],
      conditions: { StringLike: { 'aws:PrincipalTag/kubernetes-namespace': 'openclaw-*' } },
    }));
    grantBedrockInvoke(role, this.allowedModelIds, 'InvokeAllowedBedrockModels');
    const policy = role.node.findChild('DefaultPolicy');
    const reasons: Array<[string, string]> = [
      ['Resource::*', 'Only Bedrock model listing, which has no resource-level permissions, uses *.'],
      ...inferenceProfileFindings(this.allowedModelIds),
    ];
    for (const [finding, reason] of reasons) acknowledge(policy, [`AwsSolutions-IAM5[${finding}]`], reason);
    acknowledge(policy, INLINE_POLICY_RULES,
      'The Bedrock role\'s policy is its own (the allowed models): a managed policy would let it be attached elsewhere.');
    return role;
  }

  private grantTenantAccess(): void {
    const ns = '${aws:PrincipalTag/kubernetes-namespace}';
    const role = this.tenantRole;
    role.addToPolicy(new iam.PolicyStatement({
      sid: 'ReadOwnTenantSecrets',
      actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
      resources: [`arn:${Aws.PARTITION}:secretsmanager:${Aws.REGION}:${Aws.ACCOUNT_ID}:secret:openclaw/*`],
      conditions: { StringEquals: { [`aws:ResourceTag/${TAG_TENANT_NAMESPACE}`]: ns } },
    }));
    role.addToPolicy(new iam.PolicyStatement({
      sid: 'DecryptThroughSecretsManagerAndS3Only',
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: [this.encryptionKey.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': [`secretsmanager.${Aws.REGION}.amazonaws.com`, `s3.${Aws.REGION}.amazonaws.com`] } },
    }));
    role.addToPolicy(new iam.PolicyStatement({
      sid: 'CallBedrockAsOwnNamespace',
      // The Bedrock role's trust requires the session name to equal the caller's namespace.
      actions: ['sts:AssumeRole', 'sts:TagSession'],
      resources: [this.bedrockRole.roleArn],
    }));
    role.addToPolicy(new iam.PolicyStatement({
      sid: 'OwnPrefixOfTheDataBucket',
      actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
      resources: [this.dataBucket.arnForObjects(`${ns}/*`)],
    }));
    role.addToPolicy(new iam.PolicyStatement({
      sid: 'ListOwnPrefixOfTheDataBucket',
      actions: ['s3:ListBucket'],
      resources: [this.dataBucket.bucketArn],
      // `<namespace>/` exactly, never the bare namespace: `openclaw-acme` would also list `openclaw-acme2/...`.
      conditions: { StringLike: { 's3:prefix': [`${ns}/`, `${ns}/*`] } },
    }));
  }
}

/** The cluster's service range (EKS's default for 10.x VPCs, set explicitly) and its DNS address. */
const SERVICE_CIDR = '172.20.0.0/16';
const CLUSTER_DNS_IP = '172.20.0.10';

/** Tenants per nested stack: about 22 KB of template each keeps a stack under CloudFormation's 1 MB. */
const MAX_TENANTS_PER_STACK = 40;

/** 32-bit FNV-1a: a stable hash of a tenant name (the same in every process and version). */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    /* eslint-disable no-bitwise */
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
    /* eslint-enable no-bitwise */
  }
  return hash;
}

function checkLoadBalancerOptions(scope: Construct, options: PlatformLoadBalancerOptions, internetFacing: boolean): void {
  if (!internetFacing) {
    for (const prop of ['domainName', 'hostedZone', 'certificate', 'headerRotation'] as const) {
      if (options[prop] !== undefined) invalidProp(scope, `loadBalancer.${prop}`, '(set)', 'unset for an internal load balancer (it has no name or certificate of its own; set loadBalancer.internetFacing)');
    }
    return;
  }
  if (options.domainName === undefined || Token.isUnresolved(options.domainName) || !isDnsName(options.domainName)) {
    invalidProp(scope, 'loadBalancer.domainName', options.domainName, 'the load balancer\'s own lower-case DNS name, such as origin.tenants.example.com (required when internetFacing)');
  }
  if (!options.certificate && !options.hostedZone) {
    invalidProp(scope, 'loadBalancer.certificate', undefined, 'a certificate for loadBalancer.domainName, or loadBalancer.hostedZone so that one can be requested');
  }
  if (options.headerRotation) checkHeaderRotation(scope, 'loadBalancer.headerRotation', options.headerRotation);
}

function acknowledgeLoadBalancer(lb: elbv2.ApplicationLoadBalancer, internetFacing: boolean): void {
  acknowledge(lb, ['HIPAA.Security-ELBDeletionProtectionEnabled', 'NIST.800.53.R5-ELBDeletionProtectionEnabled', 'PCI.DSS.321-ELBDeletionProtectionEnabled'],
    'The load balancer holds no data and is recreated by a deploy in minutes; deletion protection would only make stack deletion fail.');
  if (internetFacing) return;
  acknowledge(lb, ['HIPAA.Security-ALBHttpToHttpsRedirection', 'NIST.800.53.R5-ALBHttpToHttpsRedirection', 'PCI.DSS.321-ALBHttpToHttpsRedirection'],
    'An internal load balancer reachable only from CloudFront\'s VPC origin, inside the VPC: browsers use HTTPS (TLS 1.2+) to CloudFront, which redirects HTTP to HTTPS.');
  const listener = lb.node.tryFindChild('Http');
  if (listener) {
    acknowledge(listener, ['HIPAA.Security-ELBv2ACMCertificateRequired', 'NIST.800.53.R5-ELBv2ACMCertificateRequired', 'PCI.DSS.321-ELBv2ACMCertificateRequired'],
      'The listener is HTTP inside the VPC, reached only through CloudFront\'s VPC origin (no public address); TLS 1.2+ ends at CloudFront.');
  }
  acknowledge(lb, ['NIST.800.53.R5-ALBWAFEnabled', 'PCI.DSS.321-ALBWAFEnabled'],
    'The web ACL is on the CloudFront distribution (CLOUDFRONT scope), the only way in: this internal load balancer has no public address.');
}

/** Node group options with defaults, checked: sizes in range, one architecture. */
interface CheckedNodeGroups {
  readonly instanceTypes: ec2.InstanceType[];
  readonly minSize: number;
  readonly maxSize: number;
  readonly arm: boolean;
}

function checkNodeGroups(scope: Construct, options: NodeGroupCapacityOptions): CheckedNodeGroups {
  const instanceTypes = options.instanceTypes ?? [new ec2.InstanceType('m7g.large')];
  const minSize = options.minSize ?? 2;
  const maxSize = options.maxSize ?? 10;
  if (instanceTypes.length === 0) invalidProp(scope, 'capacity.instanceTypes', [], 'at least one instance type');
  checkIntegerRange(scope, 'capacity.minSize', minSize, 1, 450);
  checkIntegerRange(scope, 'capacity.maxSize', maxSize, 1, 450);
  if (maxSize < minSize) invalidProp(scope, 'capacity.maxSize', maxSize, `at least minSize (${minSize})`);
  const arches = new Set(instanceTypes.map((t) => t.architecture));
  if (arches.size > 1) {
    invalidProp(scope, 'capacity.instanceTypes', instanceTypes.map((t) => t.toString()), 'instance types of one architecture (a node group has one machine image)');
  }
  return { instanceTypes, minSize, maxSize, arm: instanceTypes[0].architecture === ec2.InstanceArchitecture.ARM_64 };
}

/** The kubectl layer package, when the app has it; a clear error otherwise. */
function defaultKubectlLayer(scope: Construct): lambda.ILayerVersion {
  let layerModule: any;
  try {
    // An optional package of the app, looked up at synth time (never bundled, never a dependency of this library).
    // eslint-disable-next-line @typescript-eslint/no-require-imports, import/no-extraneous-dependencies
    layerModule = require('@aws-cdk/lambda-layer-kubectl-v35');
  } catch {
    layerModule = undefined;
  }
  if (typeof layerModule?.KubectlV35Layer !== 'function') {
    invalidProp(scope, 'kubectlLayer', undefined,
      'a Lambda layer with kubectl: install @aws-cdk/lambda-layer-kubectl-v35 (npm) or aws-cdk.lambda-layer-kubectl-v35 (PyPI) to get KubectlV35Layer by default, or pass a layer you built (LayerVersion.fromLayerVersionArn)');
  }
  return new layerModule.KubectlV35Layer(scope, 'KubectlLayer');
}

function podIdentityPrincipal(): iam.IPrincipal {
  return new iam.ServicePrincipal('pods.eks.amazonaws.com').withSessionTags();
}

/** Only Pod Identity of this cluster in this account may assume the role. */
function scopeTrust(role: iam.Role, cluster: eks.Cluster): void {
  const trust = role.assumeRolePolicy!;
  // withSessionTags() made one statement with sts:AssumeRole and sts:TagSession; add the conditions to it.
  const statement = (trust as any).statements[0] as iam.PolicyStatement;
  statement.addCondition('StringEquals', { 'aws:SourceAccount': Aws.ACCOUNT_ID });
  statement.addCondition('ArnEquals', { 'aws:SourceArn': cluster.clusterArn });
}

function renderImage(scope: Construct, prop: string, options: OpenClawImageOptions, defaultRepository: string, defaultTag: string): string {
  const repository = options.repository ?? defaultRepository;
  const tag = options.tag ?? defaultTag;
  if (!/^[a-z0-9]+([._-][a-z0-9]+)*(\.[a-z0-9-]+)*(:\d+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)+$/.test(repository)) {
    invalidProp(scope, `${prop}.repository`, repository, 'an image repository such as ghcr.io/openclaw/openclaw (no tag, no digest)');
  }
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag) || tag === 'latest') {
    invalidProp(scope, `${prop}.tag`, tag, "an image tag naming a release (not 'latest')");
  }
  if (options.digest === undefined) {
    Annotations.of(scope).addWarningV2(`cdk-openclaw:${prop}-digest`, `${prop}.digest is not set: nodes pull whatever ${repository}:${tag} points to when they start. Pin the digest you reviewed.`);
    return `${repository}:${tag}`;
  }
  if (!/^sha256:[0-9a-f]{64}$/.test(options.digest)) {
    invalidProp(scope, `${prop}.digest`, options.digest, "'sha256:' followed by 64 lower-case hex digits");
  }
  return `${repository}:${tag}@${options.digest}`;
}

const MODEL_ID = /^([a-z]{2,6}(-[a-z]+)?\.)?[a-z0-9-]+\.[a-z0-9][a-z0-9._:-]*$/;

function checkModels(scope: Construct, config: OpenClawConfig, allowed: string[] | undefined): string[] {
  const configured = [config.primaryModelId, ...(config.props.bedrock?.additionalModels ?? []).map((m) => m.modelId)];
  const ids = allowed ?? configured;
  if (ids.length === 0) invalidProp(scope, 'allowedModelIds', ids, 'at least one Bedrock model or inference profile id');
  for (const id of ids) {
    if (!Token.isUnresolved(id) && !MODEL_ID.test(id)) {
      invalidProp(scope, 'allowedModelIds', id, 'Bedrock model ids such as anthropic.claude-3-5-haiku-20241022-v1:0 or inference profile ids such as us.anthropic.claude-sonnet-4-5-20250929-v1:0');
    }
  }
  for (const id of configured) {
    if (!Token.isUnresolved(id) && !ids.includes(id)) {
      invalidProp(scope, 'allowedModelIds', ids, `a list including every model of gatewayConfig (missing ${id})`);
    }
  }
  return ids;
}

function withoutUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
