package io.github.cdkopenclaw.examples;

import io.github.cdkopenclaw.HostIngress;
import io.github.cdkopenclaw.PublicInstanceIngressOptions;
import io.github.cdkopenclaw.SecureOpenClawHost;
import java.util.List;
import software.amazon.awscdk.App;
import software.amazon.awscdk.Stack;
import software.amazon.awscdk.StackProps;
import software.constructs.Construct;

/**
 * The budget tier: the instance in a public subnet with an Elastic IP, no NAT and no load balancer; TLS on the
 * instance and only the operator's network admitted. The library's docs/single-host.md says what this gives up.
 */
public class BudgetHostStack extends Stack {
    public BudgetHostStack(final Construct scope, final String id) {
        this(scope, id, null);
    }

    public BudgetHostStack(final Construct scope, final String id, final StackProps props) {
        super(scope, id, props);
        SecureOpenClawHost.Builder.create(this, "OpenClaw")
                .ingress(HostIngress.publicInstance(PublicInstanceIngressOptions.builder()
                        .allowedCidrs(List.of("203.0.113.0/24"))
                        .build()))
                .build();
    }

    public static void main(final String[] args) {
        App app = new App();
        new BudgetHostStack(app, "OpenClawBudgetHost");
        app.synth();
    }
}
