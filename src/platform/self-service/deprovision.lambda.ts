/**
 * The deprovisioning function: one step per call of the deprovisioning state machine, input
 * `{ step: 'begin' | 'stop' | 'verify' | 'remove', tenant, export? }` (see deprovision.ts). Reads TENANT_TABLE,
 * USER_POOL_ID, EXPORT_BUCKET, CLUSTER_NAME, SECRET_RECOVERY_DAYS, and for the cluster client CLUSTER_ENDPOINT and
 * CLUSTER_CA.
 */
import { Kube } from './contract';
import { DeprovisionEvent, DeprovisionResult, configFromEnvironment, defaultClients, deprovision } from './deprovision';
import { KubeClient } from './kube-client';

const clients = defaultClients();
let kube: Kube | undefined;

/** Runs one deprovisioning step. @internal */
export async function handler(event: DeprovisionEvent): Promise<DeprovisionResult> {
  return deprovision(event, {
    ...clients,
    config: configFromEnvironment(),
    // Only `stop` and `remove` talk to the cluster; the client is made once per execution environment.
    kube: () => (kube ??= KubeClient.fromEnvironment()),
  });
}
