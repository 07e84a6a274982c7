#!/usr/bin/env python3
"""The budget tier: the instance in a public subnet with an Elastic IP, no NAT and no load balancer.

TLS on the instance and only the operator's network admitted. The library's docs/single-host.md says what
this gives up.
"""
from aws_cdk import App, Stack
from constructs import Construct

from cdk_openclaw import HostIngress, SecureOpenClawHost


class BudgetHostStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        SecureOpenClawHost(
            self,
            "OpenClaw",
            ingress=HostIngress.public_instance(allowed_cidrs=["203.0.113.0/24"]),
        )


if __name__ == "__main__":
    app = App()
    BudgetHostStack(app, "OpenClawBudgetHost")
    app.synth()
