package io.github.cdkopenclaw.examples;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.cdkopenclaw.HostIngress;
import io.github.cdkopenclaw.PublicInstanceIngressOptions;
import io.github.cdkopenclaw.SecureOpenClawHost;
import java.util.List;
import org.junit.jupiter.api.Test;
import software.amazon.awscdk.App;
import software.amazon.awscdk.Size;
import software.amazon.awscdk.Stack;

/** A Java user gets the same clear errors as a TypeScript user. */
class BadInputTest {
    @Test
    void aBadValueFailsWithThePropTheValueAndWhatIsAllowed() {
        Stack stack = new Stack(new App(), "Test");
        RuntimeException error = assertThrows(RuntimeException.class, () -> SecureOpenClawHost.Builder.create(stack, "OpenClaw")
                .rootVolumeSize(Size.gibibytes(6))
                .build());
        assertTrue(error.getMessage().contains("Test/OpenClaw: rootVolumeSize must be a whole number of GiB from 8 to 16384, got '6 GiB'"),
                error.getMessage());
    }

    @Test
    void aBadNestedValueNamesItsPath() {
        Stack stack = new Stack(new App(), "Test");
        RuntimeException error = assertThrows(RuntimeException.class, () -> SecureOpenClawHost.Builder.create(stack, "OpenClaw")
                .ingress(HostIngress.publicInstance(PublicInstanceIngressOptions.builder()
                        .allowedCidrs(List.of("203.0.113.0/33"))
                        .build()))
                .build());
        assertTrue(error.getMessage().contains("ingress.allowedCidrs must be a list of IPv4 CIDR blocks"), error.getMessage());
        assertTrue(error.getMessage().contains("got '203.0.113.0/33'"), error.getMessage());
    }

    @Test
    void theExampleStacksSynthesize() {
        App app = new App();
        new SingleHostStack(app, "OpenClawSingleHost");
        new AlbCognitoStack(app, "OpenClawAlbCognito");
        new BudgetHostStack(app, "OpenClawBudgetHost");
        assertTrue(app.synth().getStacks().size() == 3);
    }
}
