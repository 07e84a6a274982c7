import { Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct, IConstruct } from 'constructs';
import { BASIC_EXECUTION_ROLE_RULE, INLINE_POLICY_RULES, acknowledge } from './nag';
import { NatStrategy } from './nat';
import { encryptedLogGroup } from './storage';

/** @internal */
export interface OpenClawVpcOptions {
  readonly key: kms.IKey;
  readonly flowLogRetention: logs.RetentionDays;
  /** undefined: public subnets only, no NAT at all (the budget tier). */
  readonly nat?: NatStrategy;
  readonly interfaceEndpoints: boolean;
  /** Availability zones (default 2). */
  readonly maxAzs?: number;
  /** One NAT gateway per zone instead of one for the VPC (default false). */
  readonly natPerAz?: boolean;
  /** The VPC's CIDR block (default CDK's 10.0.0.0/16). */
  readonly cidr?: string;
  /** Prefix length of the private subnets (default 24). */
  readonly privateCidrMask?: number;
}

/** Interface endpoints an OpenClaw host uses: Session Manager, secrets, keys, logs and Bedrock. */
const INTERFACE_ENDPOINTS: Array<[string, ec2.InterfaceVpcEndpointAwsService]> = [
  ['Ssm', ec2.InterfaceVpcEndpointAwsService.SSM],
  ['SsmMessages', ec2.InterfaceVpcEndpointAwsService.SSM_MESSAGES],
  ['Ec2Messages', ec2.InterfaceVpcEndpointAwsService.EC2_MESSAGES],
  ['SecretsManager', ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER],
  ['Kms', ec2.InterfaceVpcEndpointAwsService.KMS],
  ['Logs', ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS],
  ['BedrockRuntime', ec2.InterfaceVpcEndpointAwsService.BEDROCK_RUNTIME],
];

/**
 * The VPC a construct creates when none is passed in: two zones, flow logs of all traffic into an encrypted
 * log group, the default security group stripped of its rules, a free S3 gateway endpoint, and optionally
 * interface endpoints (placed in one zone to halve their cost).
 */
export function createVpc(scope: Construct, id: string, options: OpenClawVpcOptions): ec2.Vpc {
  const publicOnly = options.nat === undefined;
  let natProvider: ec2.NatInstanceProviderV2 | undefined;
  if (options.nat === NatStrategy.INSTANCE) {
    natProvider = ec2.NatProvider.instanceV2({
      instanceType: ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.NANO),
      machineImage: ec2.MachineImage.latestAmazonLinux2023({ cpuType: ec2.AmazonLinuxCpuType.ARM_64 }),
      defaultAllowedTraffic: ec2.NatTrafficDirection.OUTBOUND_ONLY,
      associatePublicIpAddress: true,
    });
  }
  const maxAzs = options.maxAzs ?? 2;
  const vpc = new ec2.Vpc(scope, id, {
    maxAzs,
    ipAddresses: options.cidr === undefined ? undefined : ec2.IpAddresses.cidr(options.cidr),
    natGateways: publicOnly ? 0 : options.natPerAz ? maxAzs : 1,
    natGatewayProvider: natProvider,
    restrictDefaultSecurityGroup: true,
    subnetConfiguration: publicOnly
      ? [{ name: 'Public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24, mapPublicIpOnLaunch: false }]
      : [
        { name: 'Public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24, mapPublicIpOnLaunch: false },
        { name: 'Private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: options.privateCidrMask ?? 24 },
      ],
    gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
  });
  if (natProvider) {
    natProvider.securityGroup.addIngressRule(ec2.Peer.ipv4(vpc.vpcCidrBlock), ec2.Port.allTraffic(), 'NAT for the private subnets of this VPC');
    acknowledgeNatInstances(vpc);
  }
  const flowLogGroup = encryptedLogGroup(scope, `${id}FlowLogs`, options.key, options.flowLogRetention);
  vpc.addFlowLog('FlowLog', {
    destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup),
    trafficType: ec2.FlowLogTrafficType.ALL,
  });
  if (options.interfaceEndpoints) {
    const subnets = vpc.selectSubnets({ subnetType: publicOnly ? ec2.SubnetType.PUBLIC : ec2.SubnetType.PRIVATE_WITH_EGRESS });
    for (const [name, service] of INTERFACE_ENDPOINTS) {
      vpc.addInterfaceEndpoint(name, {
        service,
        privateDnsEnabled: true,
        subnets: { subnets: [subnets.subnets[0]] },
      });
    }
  }
  acknowledgeRestrictDefaultSgProvider(Stack.of(scope));
  for (const subnet of vpc.publicSubnets) {
    const route = subnet.node.tryFindChild('DefaultRoute');
    if (route) {
      acknowledge(route, ['HIPAA.Security-VPCNoUnrestrictedRouteToIGW', 'NIST.800.53.R5-VPCNoUnrestrictedRouteToIGW', 'PCI.DSS.321-VPCNoUnrestrictedRouteToIGW'],
        'Public subnets hold only the NAT and the load balancer (or the budget-tier host), which need a route to the internet gateway; workloads live in private subnets.');
    }
  }
  const flowLogPolicy = vpc.node.tryFindChild('FlowLog')?.node.tryFindChild('IAMRole')?.node.tryFindChild('DefaultPolicy');
  if (flowLogPolicy) {
    acknowledge(flowLogPolicy, INLINE_POLICY_RULES,
      'CDK\'s flow log role policy, scoped to writing this VPC\'s flow log group.');
  }
  return vpc;
}

function acknowledgeNatInstances(vpc: ec2.Vpc): void {
  for (const child of vpc.node.findAll()) {
    if (child instanceof ec2.Instance) {
      acknowledge(child, ['AwsSolutions-EC28', 'AwsSolutions-EC29', 'HIPAA.Security-EC2InstanceDetailedMonitoringEnabled',
        'NIST.800.53.R5-EC2InstanceDetailedMonitoringEnabled', 'PCI.DSS.321-EC2InstanceDetailedMonitoringEnabled'],
      'The NAT instance is stateless and replaceable; it was chosen for cost (NatStrategy.INSTANCE), so it skips detailed monitoring and termination protection.');
      acknowledge(child, ['HIPAA.Security-EC2InstanceNoPublicIp', 'NIST.800.53.R5-EC2InstanceNoPublicIp', 'PCI.DSS.321-EC2InstanceNoPublicIp'],
        'A NAT instance needs a public address to forward the private subnets\' outbound traffic; its security group admits only this VPC.');
      acknowledge(child, ['HIPAA.Security-EC2InstanceProfileAttached', 'NIST.800.53.R5-EC2InstanceProfileAttached', 'PCI.DSS.321-EC2InstanceProfileAttached'],
        'The NAT instance calls no AWS API, so it carries no instance profile (least privilege).');
    }
  }
}

/** The stack-wide provider that empties the default security group is CDK's own code, not the user's. */
function acknowledgeRestrictDefaultSgProvider(stack: Stack): void {
  const provider: IConstruct | undefined = stack.node.tryFindChild('Custom::VpcRestrictDefaultSGCustomResourceProvider');
  if (!provider) return;
  for (const child of provider.node.findAll()) {
    acknowledge(child, [BASIC_EXECUTION_ROLE_RULE],
      'CDK\'s provider that removes the rules of the default security group uses the basic execution role for its own logs.');
  }
}
