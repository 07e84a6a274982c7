/** How instances in private subnets reach the internet (package repositories, model APIs). */
export enum NatStrategy {
  /**
   * One managed NAT gateway (about 32 USD a month plus data). Managed, highly available within its zone,
   * patched by AWS. The secure default.
   */
  GATEWAY = 'GATEWAY',
  /**
   * One NAT instance on a t4g.nano (about 3 USD a month). Cheaper, but it is an instance you run: a single
   * point of failure with a bandwidth ceiling. Choose it for cost, knowingly.
   */
  INSTANCE = 'INSTANCE',
}
