package io.github.cdkopenclaw.examples;

import io.github.cdkopenclaw.BudgetEnforcement;
import io.github.cdkopenclaw.OpenClawImageOptions;
import io.github.cdkopenclaw.OpenClawTenantPlatform;
import io.github.cdkopenclaw.PlatformEdgeOptions;
import io.github.cdkopenclaw.SelfServiceOptions;
import io.github.cdkopenclaw.TenantBudgetOptions;
import io.github.cdkopenclaw.TenantOptions;
import java.util.List;
import software.amazon.awscdk.App;
import software.amazon.awscdk.Stack;
import software.amazon.awscdk.StackProps;
import software.amazon.awscdk.services.lambda.ILayerVersion;
import software.amazon.awscdk.services.lambda.LayerVersion;
import software.amazon.awscdk.services.route53.HostedZone;
import software.amazon.awscdk.services.route53.HostedZoneAttributes;
import software.amazon.awscdk.services.route53.IHostedZone;
import software.constructs.Construct;

/**
 * Multi-tenant OpenClaw on EKS: one gateway per tenant in its own namespace, reached at
 * https://tenants.example.com/t/&lt;tenant&gt;/ through CloudFront and its web ACL (the certificate is requested in
 * us-east-1 through the hosted zone). Two tenants are declared in code; people of example.com sign up for more.
 *
 * <p>Maven Central has no build of the kubectl 1.35 layer package, so the app takes a published layer from the
 * context value {@code kubectlLayerArn} (publish the layer once from the npm package @aws-cdk/lambda-layer-kubectl-v35).
 */
public class TenantPlatformStack extends Stack {
    public TenantPlatformStack(final Construct scope, final String id) {
        this(scope, id, null);
    }

    public TenantPlatformStack(final Construct scope, final String id, final StackProps props) {
        super(scope, id, props);
        Object layerArn = this.getNode().tryGetContext("kubectlLayerArn");
        if (layerArn == null) {
            throw new IllegalArgumentException(
                    "Pass -c kubectlLayerArn=<ARN of a published kubectl 1.35 layer> (see examples/java/README.md)");
        }
        ILayerVersion kubectlLayer = LayerVersion.fromLayerVersionArn(this, "KubectlLayer", layerArn.toString());
        IHostedZone zone = HostedZone.fromHostedZoneAttributes(this, "Zone", HostedZoneAttributes.builder()
                .hostedZoneId("Z0123456789EXAMPLE")
                .zoneName("example.com")
                .build());
        OpenClawTenantPlatform platform = OpenClawTenantPlatform.Builder.create(this, "Platform")
                .edge(PlatformEdgeOptions.builder().domainName("tenants.example.com").hostedZone(zone).build())
                .kubectlLayer(kubectlLayer)
                .image(OpenClawImageOptions.builder()
                        .tag("2026.9.6")
                        .digest("sha256:0e5f0c1b9f4e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c")
                        .build())
                .routerImage(OpenClawImageOptions.builder()
                        .tag("1.30.4-alpine")
                        .digest("sha256:4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b")
                        .build())
                .alarmEmails(List.of("ops@example.com"))
                // Self-service: example.com addresses sign up at /auth/ and get their own gateway (docs/self-service.md).
                .selfService(SelfServiceOptions.builder().allowedEmailDomains(List.of("example.com")).build())
                // Budgets (on by default): measured hourly from Bedrock's invocation logs; at 100 % a tenant's Bedrock
                // calls are denied until the month ends or its budget is raised (docs/budgets.md).
                .budgets(TenantBudgetOptions.builder()
                        .enforcement(BudgetEnforcement.BLOCK)
                        .alertEmails(List.of("finops@example.com"))
                        .build())
                .build();
        platform.addTenant("acme");
        platform.addTenant("globex", TenantOptions.builder().budgetUsd(250).memory("16Gi").build());
    }

    public static void main(final String[] args) {
        App app = new App();
        new TenantPlatformStack(app, "OpenClawTenantPlatform");
        app.synth();
    }
}
