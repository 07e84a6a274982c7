package io.github.cdkopenclaw.examples;

import io.github.cdkopenclaw.BedrockAudit;
import io.github.cdkopenclaw.BedrockAuditTrailProps;
import io.github.cdkopenclaw.CognitoIngressOptions;
import io.github.cdkopenclaw.HostFirewallOptions;
import io.github.cdkopenclaw.HostIngress;
import io.github.cdkopenclaw.ModelInvocationLoggingOptions;
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
 * A team gateway on the internet: an HTTPS load balancer with WAF; Cognito signs users in and OpenClaw trusts
 * the identity the load balancer passes on. Agent data lives on EFS so it survives instance replacement. Every
 * Bedrock call of the account is recorded in an audit trail with alarms, and each call's token counts in model
 * invocation logs.
 */
public class AlbCognitoStack extends Stack {
    public AlbCognitoStack(final Construct scope, final String id) {
        this(scope, id, null);
    }

    public AlbCognitoStack(final Construct scope, final String id, final StackProps props) {
        super(scope, id, props);
        IHostedZone zone = HostedZone.fromHostedZoneAttributes(this, "Zone", HostedZoneAttributes.builder()
                .hostedZoneId("Z0123456789EXAMPLE")
                .zoneName("example.com")
                .build());
        SecureOpenClawHost.Builder.create(this, "OpenClaw")
                .ingress(HostIngress.loadBalancerWithCognito(CognitoIngressOptions.builder()
                        .domainName("openclaw.example.com")
                        .hostedZone(zone)
                        .cognitoDomainPrefix("example-openclaw")
                        .firewall(HostFirewallOptions.builder()
                                .rateLimitPer5Minutes(500)
                                .blockedCountries(List.of("KP"))
                                .build())
                        .build()))
                .persistentAgentData(true)
                .alarmEmails(List.of("ops@example.com"))
                .bedrockAudit(BedrockAudit.newTrail(BedrockAuditTrailProps.builder()
                        .cloudWatchLogs(true)
                        .modelInvocationLogging(ModelInvocationLoggingOptions.builder()
                                .cloudWatchLogs(true)
                                .build())
                        .build()))
                .build();
    }

    public static void main(final String[] args) {
        App app = new App();
        new AlbCognitoStack(app, "OpenClawAlbCognito");
        app.synth();
    }
}
