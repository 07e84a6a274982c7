import { Stack } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { IConstruct } from 'constructs';
import { INLINE_POLICY_RULES, LAMBDA_PLACEMENT_RULES, acknowledge } from '../core/nag';

const managed = (name: string) => `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/${name}]`;

export interface ServiceRoles {
  readonly cluster: IConstruct;
  readonly node: IConstruct;
  readonly efsCsi: IConstruct;
  readonly cloudWatchAgent: IConstruct;
}

/** Managed policies of AWS services that the platform's roles need as published and maintained by AWS. */
export function acknowledgeServiceRoles(roles: ServiceRoles): void {
  acknowledge(roles.cluster, [
    managed('AmazonEKSClusterPolicy'), managed('AmazonEKSComputePolicy'), managed('AmazonEKSBlockStoragePolicy'),
    managed('AmazonEKSLoadBalancingPolicy'), managed('AmazonEKSNetworkingPolicy'),
  ], 'EKS Auto Mode requires these AWS managed policies on the cluster role, and AWS updates them as Auto Mode changes.');
  acknowledge(roles.node, [managed('AmazonEKSWorkerNodeMinimalPolicy'), managed('AmazonEC2ContainerRegistryPullOnly')],
    'The two AWS managed policies EKS Auto Mode documents for its node role: join the cluster and pull images, nothing else.');
  acknowledge(roles.node, [managed('AmazonEKSWorkerNodePolicy'), managed('AmazonEKS_CNI_Policy')],
    'With managed node groups, the AWS managed policies EKS documents for nodes and the VPC CNI they run: join the cluster, attach pod network interfaces.');
  acknowledge(roles.efsCsi, [managed('service-role/AmazonEFSCSIDriverPolicy')],
    'The EFS CSI driver\'s own AWS managed policy (create and delete access points, tag-scoped), maintained with the driver.');
  acknowledge(roles.cloudWatchAgent, [managed('CloudWatchAgentServerPolicy')],
    'The policy the CloudWatch Observability add-on documents for its agent: publish Container Insights metrics and logs.');
}

/** aws-cdk-lib's kubectl provider of the cluster: deploy-time functions CloudFormation invokes and waits for. */
export function acknowledgeKubectlProvider(cluster: eks.Cluster): void {
  const provider = cluster.node.tryFindChild('KubectlProvider');
  if (!provider) return;
  for (const child of provider.node.findAll()) {
    const path = child.node.path;
    if (path.endsWith('/ServiceRole/Resource') || path.endsWith('/ServiceRole')) {
      acknowledge(child, [
        managed('service-role/AWSLambdaBasicExecutionRole'), managed('service-role/AWSLambdaVPCAccessExecutionRole'),
        managed('AmazonEC2ContainerRegistryReadOnly'),
      ], 'aws-cdk-lib\'s kubectl provider: its functions log, run in the VPC (the cluster endpoint is private) and may pull the kubectl image, with these AWS managed policies.');
    }
    if (path.endsWith('/DefaultPolicy/Resource')) {
      acknowledge(child, INLINE_POLICY_RULES, 'aws-cdk-lib\'s kubectl provider policy, scoped to describing this cluster and invoking its own handler.');
      const handler = provider.node.tryFindChild('Handler')?.node.defaultChild as IConstruct | undefined;
      const handlerId = handler && Stack.of(cluster).resolve((handler as any).logicalId);
      if (handlerId) {
        acknowledge(child, [`AwsSolutions-IAM5[Resource::<${handlerId}.Arn>:*]`],
          'aws-cdk-lib\'s provider framework invokes its handler function by ARN with any version (`<arn>:*`); nothing else is wildcarded.');
      }
    }
    if (child.node.id === 'Resource' && /\/(Handler|framework-onEvent)\/Resource$/.test(path)) {
      acknowledge(child, LAMBDA_PLACEMENT_RULES,
        'A deploy-time function CloudFormation invokes once per manifest change and waits for: no queue or concurrency limit to protect.');
      acknowledge(child, ['AwsSolutions-L1'], 'The runtime of aws-cdk-lib\'s kubectl provider is chosen by aws-cdk-lib and moves forward with it.');
    }
  }
  // The ECR public policy is attached through a condition (only in partitions that have ECR Public).
  const handlerRole = provider.node.tryFindChild('Handler')?.node.tryFindChild('ServiceRole');
  if (handlerRole) {
    const stack = Stack.of(cluster);
    const conditionId = stack.resolve((provider.node.tryFindChild('Handler')?.node.tryFindChild('HasEcrPublic') as any)?.logicalId);
    if (conditionId) {
      acknowledge(handlerRole, [`AwsSolutions-IAM4[Policy::{"Fn::If":["${conditionId}",{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":iam::aws:policy/AmazonElasticContainerRegistryPublicReadOnly"]]},{"Ref":"AWS::NoValue"}]}]`],
        'aws-cdk-lib\'s kubectl handler may pull from ECR Public where the partition has it, with AWS\'s read-only policy.');
    }
  }
}

/** The AWS Load Balancer Controller aws-cdk-lib installs with node groups: its published IAM policy, as an inline policy. */
export function acknowledgeAlbController(cluster: eks.Cluster): void {
  const controller = cluster.albController;
  if (!controller) return;
  for (const child of controller.node.findAll()) {
    if (!child.node.path.endsWith('/Role/DefaultPolicy/Resource')) continue;
    const resources = [
      '*', 'arn:<AWS::Partition>:ec2:*:*:security-group/*',
      'arn:<AWS::Partition>:elasticloadbalancing:*:*:targetgroup/*/*',
      'arn:<AWS::Partition>:elasticloadbalancing:*:*:loadbalancer/net/*/*', 'arn:<AWS::Partition>:elasticloadbalancing:*:*:loadbalancer/app/*/*',
      'arn:<AWS::Partition>:elasticloadbalancing:*:*:listener/net/*/*/*', 'arn:<AWS::Partition>:elasticloadbalancing:*:*:listener/app/*/*/*',
      'arn:<AWS::Partition>:elasticloadbalancing:*:*:listener-rule/net/*/*/*', 'arn:<AWS::Partition>:elasticloadbalancing:*:*:listener-rule/app/*/*/*',
    ];
    acknowledge(child, resources.map((r) => `AwsSolutions-IAM5[Resource::${r}]`),
      'The AWS Load Balancer Controller\'s own IAM policy as its project publishes it (it discovers and manages load balancers by tag conditions); here it only binds the router pods to one target group.');
    acknowledge(child, INLINE_POLICY_RULES, 'aws-cdk-lib attaches the AWS Load Balancer Controller\'s published policy to its service account role inline.');
  }
}
