import * as ec2 from 'aws-cdk-lib/aws-ec2';

/** Managed node groups for the tenant platform. */
export interface NodeGroupCapacityOptions {
  /**
   * Instance types of the node group (all of one architecture).
   * @default - m7g.large (Graviton)
   */
  readonly instanceTypes?: ec2.InstanceType[];

  /**
   * Fewest nodes.
   * @default 2
   */
  readonly minSize?: number;

  /**
   * Most nodes.
   * @default 10
   */
  readonly maxSize?: number;
}

/** Where the platform's pods run. */
export class PlatformCapacity {
  /**
   * EKS Auto Mode (the default): AWS runs the nodes, the VPC CNI, CoreDNS, kube-proxy, the Pod Identity agent and
   * load balancer bindings; the platform adds its own node pool whose node class enforces network policies.
   */
  public static autoMode(): PlatformCapacity {
    return new PlatformCapacity('auto-mode');
  }

  /**
   * Managed node groups (Graviton by default) in the private subnets, nodes with IMDSv2 and a hop limit of 1 (pods
   * cannot reach the instance metadata service), the VPC CNI (network policies on), CoreDNS, kube-proxy and the Pod
   * Identity agent as EKS add-ons, and the AWS Load Balancer Controller for the router's target group binding.
   */
  public static nodeGroups(options: NodeGroupCapacityOptions = {}): PlatformCapacity {
    return new PlatformCapacity('node-groups', options);
  }

  private constructor(
    /** `auto-mode` or `node-groups`. */
    public readonly mode: string,
    /** The node group options. */
    public readonly nodeGroupOptions?: NodeGroupCapacityOptions,
  ) {}
}
