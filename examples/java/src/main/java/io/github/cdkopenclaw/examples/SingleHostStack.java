package io.github.cdkopenclaw.examples;

import io.github.cdkopenclaw.SecureOpenClawHost;
import java.util.List;
import software.amazon.awscdk.App;
import software.amazon.awscdk.Stack;
import software.amazon.awscdk.StackProps;
import software.constructs.Construct;

/**
 * The default shape: a private OpenClaw gateway reached with Session Manager port forwarding.
 * No inbound rule and no public address; Bedrock through the instance role.
 */
public class SingleHostStack extends Stack {
    public SingleHostStack(final Construct scope, final String id) {
        this(scope, id, null);
    }

    public SingleHostStack(final Construct scope, final String id, final StackProps props) {
        super(scope, id, props);
        SecureOpenClawHost.Builder.create(this, "OpenClaw")
                .alarmEmails(List.of("ops@example.com"))
                .build();
    }

    public static void main(final String[] args) {
        App app = new App();
        new SingleHostStack(app, "OpenClawSingleHost");
        app.synth();
    }
}
