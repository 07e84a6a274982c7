import { MANIFEST_MUTANTS, documentNames, extractManifests, parseKubectlValidate, parsePss } from '../../oracles/lib/k8s';
import { sampleTenantYaml } from '../../oracles/lib/tenant-sample';

const sample = sampleTenantYaml('tenant-a');
const env = { account: '111122223333', region: 'us-east-1' };

describe('the Kubernetes oracles', () => {
  test('manifests joined from tokens in a template are read as CloudFormation would apply them', () => {
    const template = {
      Resources: {
        Secret1: { Type: 'AWS::SecretsManager::Secret' },
        Manifest1: {
          Type: 'Custom::AWSCDK-EKS-KubernetesResource',
          Properties: {
            Manifest: { 'Fn::Join': ['', ['[{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","namespace":"tenant-a"},"data":{"secret":"', { Ref: 'Secret1' }, '"}}]']] },
          },
        },
        Other: { Type: 'AWS::S3::Bucket' },
      },
    };
    expect(extractManifests(template, env)).toEqual([{
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'c', namespace: 'tenant-a' },
      data: { secret: expect.stringMatching(/^arn:aws:secretsmanager:us-east-1:111122223333:secret:Secret1-/) },
    }]);
  });

  test('documents are named Kind/namespace/name in file order', () => {
    const ns = 'openclaw-tenant-a';
    expect(documentNames(sample)).toEqual([
      `Namespace//${ns}`, `ResourceQuota/${ns}/tenant-quota`, `LimitRange/${ns}/tenant-limits`,
      `NetworkPolicy/${ns}/default-deny`, `NetworkPolicy/${ns}/gateway-ingress-from-router`, `NetworkPolicy/${ns}/gateway-egress`,
      `ServiceAccount/${ns}/openclaw`, `ConfigMap/${ns}/openclaw-config`, `PersistentVolumeClaim/${ns}/openclaw-state`,
      `Deployment/${ns}/openclaw`, `Service/${ns}/openclaw`, `PodDisruptionBudget/${ns}/openclaw`,
    ]);
  });

  test('kubectl-validate\'s failures become findings on the document they are about', () => {
    const output = JSON.stringify({
      'f.yaml': [
        { status: 'Success' },
        { status: 'Failure', reason: 'Invalid', details: { causes: [{ reason: 'FieldValueInvalid', field: 'spec.x', message: 'unknown field' }] } },
      ],
    });
    const { findings, ran } = parseKubectlValidate(output, 'k', { 'f.yaml': ['Namespace//a', 'Deployment/a/d'] });
    expect(ran).toBe(2);
    expect(findings).toEqual([{ tool: 'kubectl-validate', check: 'FieldValueInvalid', app: 'k', resource: 'Deployment/a/d', message: 'spec.x: unknown field' }]);
  });

  test('Pod Security violations become findings', () => {
    const out = '{"check":"runAsUser=0","message":"pod must not set runAsUser=0","resource":"Deployment/a/d"}\n';
    expect(parsePss(out, 'k')).toEqual([{ tool: 'pss', check: 'restricted: runAsUser=0', app: 'k', resource: 'Deployment/a/d', message: 'pod must not set runAsUser=0' }]);
  });

  test.each(MANIFEST_MUTANTS.map((m) => [m.name, m] as const))('the %s mutant changes the sample tenant', (_name, mutant) => {
    const broken = mutant.apply(sample);
    expect(broken).not.toBe(sample);
    // Mutants change or add documents; they never drop one.
    expect(documentNames(broken).slice(0, documentNames(sample).length)).toEqual(documentNames(sample));
  });

  test('the sample tenant enforces Pod Security restricted and denies all traffic by default', () => {
    expect(sample).toContain('pod-security.kubernetes.io/enforce: restricted');
    expect(sample).toMatch(/name: default-deny[\s\S]*?spec:\n {2}podSelector: \{\}\n {2}policyTypes:\n {4}- Ingress\n {4}- Egress\n/);
  });
});
