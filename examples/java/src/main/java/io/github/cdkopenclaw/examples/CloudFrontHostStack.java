package io.github.cdkopenclaw.examples;

import io.github.cdkopenclaw.CloudFrontIngressOptions;
import io.github.cdkopenclaw.EdgeFirewallOptions;
import io.github.cdkopenclaw.HostIngress;
import io.github.cdkopenclaw.SecureOpenClawHost;
import java.util.List;
import software.amazon.awscdk.App;
import software.amazon.awscdk.Stack;
import software.amazon.awscdk.StackProps;
import software.amazon.awscdk.services.route53.HostedZone;
import software.amazon.awscdk.services.route53.HostedZoneAttributes;
import software.amazon.awscdk.services.route53.IHostedZone;
import software.constructs.Construct;

/**
 * A gateway on the internet with no public origin: CloudFront and a CLOUDFRONT-scope WAF in front, reaching the
 * private instance through a VPC origin. The web ACL is managed in us-east-1 from the stack's region and the
 * certificate is requested there through the hosted zone.
 */
public class CloudFrontHostStack extends Stack {
    public CloudFrontHostStack(final Construct scope, final String id) {
        this(scope, id, null);
    }

    public CloudFrontHostStack(final Construct scope, final String id, final StackProps props) {
        super(scope, id, props);
        IHostedZone zone = HostedZone.fromHostedZoneAttributes(this, "Zone", HostedZoneAttributes.builder()
                .hostedZoneId("Z0123456789EXAMPLE")
                .zoneName("example.com")
                .build());
        SecureOpenClawHost.Builder.create(this, "OpenClaw")
                .ingress(HostIngress.cloudFront(CloudFrontIngressOptions.builder()
                        .domainName("openclaw.example.com")
                        .hostedZone(zone)
                        .firewall(EdgeFirewallOptions.builder()
                                .rateLimitPer5Minutes(500)
                                .blockedCountries(List.of("KP"))
                                .build())
                        .build()))
                .alarmEmails(List.of("ops@example.com"))
                .build();
    }

    public static void main(final String[] args) {
        App app = new App();
        new CloudFrontHostStack(app, "OpenClawCloudFrontHost");
        app.synth();
    }
}
