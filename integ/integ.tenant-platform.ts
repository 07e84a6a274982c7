/**
 * The tenant platform with two tenants behind its edge. Deploying it needs a public hosted zone you own: set
 * OPENCLAW_INTEG_ZONE_ID and OPENCLAW_INTEG_ZONE_NAME (the snapshot uses example values). On a real deploy the
 * assertions check that the cluster is ACTIVE, that tenant acme's gateway pod is Ready and answers /t/acme/healthz
 * through CloudFront, the router and its network policy, and that a pod in tenant globex's namespace, labelled like a
 * gateway (so it gets the gateways' egress allowlist), resolves acme's service name but cannot connect to it, and
 * that the budget function runs against the real invocation log group, table, secrets and block policies (its
 * run completes: it claimed its window, and no block policy write failed).
 */
import { ExpectedResult, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import { KubectlV35Layer } from '@aws-cdk/lambda-layer-kubectl-v35';
import { App, CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { OpenClawTenantPlatform } from 'cdk-openclaw';

const zoneId = process.env.OPENCLAW_INTEG_ZONE_ID ?? 'Z0123456789EXAMPLE';
const zoneName = process.env.OPENCLAW_INTEG_ZONE_NAME ?? 'example.com';
const domainName = `openclaw-tenants-integ.${zoneName}`;

const app = new App();
const stack = new Stack(app, 'OpenClawIntegTenantPlatform');
const zone = route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: zoneId, zoneName });
const platform = new OpenClawTenantPlatform(stack, 'Platform', {
  edge: { domainName, hostedZone: zone },
  kubectlLayer: new KubectlV35Layer(stack, 'KubectlLayer'),
  // Tags only: the deploy pulls the releases as published (an app you run pins the digests you reviewed).
  image: { tag: '2026.9.6' },
  routerImage: { tag: '1.30.4-alpine' },
});
const acme = platform.addTenant('acme');
const globex = platform.addTenant('globex');

// acme's gateway has its one replica ready (the object value waits for the field to exist).
const ready = new eks.KubernetesObjectValue(stack, 'AcmeReady', {
  cluster: platform.cluster,
  objectType: 'deployment',
  objectName: 'openclaw',
  objectNamespace: acme.namespace,
  jsonPath: '.status.readyReplicas',
  timeout: Duration.minutes(15),
});
ready.node.addDependency(acme);
new CfnOutput(stack, 'AcmeReadyReplicas', { value: ready.value });

// A probe in globex's namespace that looks like a gateway to the network policies tries acme's gateway once.
const probe = platform.cluster.addManifest('CrossTenantProbe', {
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name: 'cross-tenant-probe', namespace: globex.namespace },
  spec: {
    backoffLimit: 0,
    activeDeadlineSeconds: 120,
    template: {
      metadata: { labels: { 'app.kubernetes.io/name': 'openclaw', 'app.kubernetes.io/component': 'gateway' } },
      spec: {
        restartPolicy: 'Never',
        automountServiceAccountToken: false,
        securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } },
        containers: [{
          name: 'probe',
          image: 'public.ecr.aws/docker/library/busybox:1.37',
          // Succeeds only if the name resolves (DNS is allowed) and the connection is refused (the policies hold).
          command: ['sh', '-c', [
            `nslookup openclaw.${acme.namespace}.svc.cluster.local >/dev/null`,
            `if wget -q -T 10 -O - http://openclaw.${acme.namespace}.svc.cluster.local:18789/healthz; then exit 1; fi`,
          ].join(' && ')],
          securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
          resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '100m', memory: '32Mi' } },
        }],
      },
    },
  },
});
probe.node.addDependency(acme, globex);
const refused = new eks.KubernetesObjectValue(stack, 'CrossTenantRefused', {
  cluster: platform.cluster,
  objectType: 'job',
  objectName: 'cross-tenant-probe',
  objectNamespace: globex.namespace,
  jsonPath: '.status.succeeded',
  timeout: Duration.minutes(5),
});
refused.node.addDependency(probe);
new CfnOutput(stack, 'CrossTenantProbeRefused', { value: refused.value });

const integ = new IntegTest(app, 'TenantPlatform', { testCases: [stack], regions: ['eu-west-1'] });

integ.assertions
  .awsApiCall('EKS', 'describeCluster', { name: platform.cluster.clusterName })
  .expect(ExpectedResult.objectLike({ cluster: { status: 'ACTIVE', resourcesVpcConfig: { endpointPublicAccess: false } } }));

integ.assertions
  .awsApiCall('CloudFormation', 'describeStacks', { StackName: stack.stackName })
  .expect(ExpectedResult.objectLike({
    Stacks: [{ Outputs: [{ OutputKey: 'AcmeReadyReplicas', OutputValue: '1' }, { OutputKey: 'CrossTenantProbeRefused', OutputValue: '1' }] }],
  }));

// Through CloudFront, the web ACL, the internal load balancer and the router to acme's gateway.
integ.assertions
  .httpApiCall(`https://${domainName}/t/acme/healthz`)
  .expect(ExpectedResult.objectLike({ status: 200 }))
  .waitForAssertions({ totalTimeout: Duration.minutes(25), interval: Duration.seconds(30) });

// A tenant that does not exist is not found; nothing else is served.
integ.assertions
  .httpApiCall(`https://${domainName}/t/nobody/healthz`)
  .expect(ExpectedResult.objectLike({ status: 502 }));

// The budget function's run over the real services: invoked once, it returns its summary without an error.
integ.assertions
  .invokeFunction({ functionName: platform.budgets!.budgetFunction.functionName })
  .expect(ExpectedResult.objectLike({ StatusCode: 200, Payload: Match.stringLikeRegexp('"claimLost":false') }));
