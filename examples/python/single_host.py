#!/usr/bin/env python3
"""The default shape: a private OpenClaw gateway reached with Session Manager port forwarding.

No inbound rule and no public address; Bedrock through the instance role.
"""
from aws_cdk import App, Stack
from constructs import Construct

from cdk_openclaw import SecureOpenClawHost


class SingleHostStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        SecureOpenClawHost(self, "OpenClaw", alarm_emails=["ops@example.com"])


if __name__ == "__main__":
    app = App()
    SingleHostStack(app, "OpenClawSingleHost")
    app.synth()
