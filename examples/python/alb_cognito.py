#!/usr/bin/env python3
"""A team gateway on the internet.

An HTTPS load balancer with WAF; Cognito signs users in and OpenClaw trusts the identity the load balancer
passes on. Agent data lives on EFS so it survives instance replacement. Every Bedrock call of the account is
recorded in an audit trail with alarms, and each call's token counts in model invocation logs.
"""
from aws_cdk import App, Stack
from aws_cdk import aws_route53 as route53
from constructs import Construct

from cdk_openclaw import (
    BedrockAudit,
    HostFirewallOptions,
    HostIngress,
    ModelInvocationLoggingOptions,
    SecureOpenClawHost,
)


class AlbCognitoStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        zone = route53.HostedZone.from_hosted_zone_attributes(
            self, "Zone", hosted_zone_id="Z0123456789EXAMPLE", zone_name="example.com"
        )
        SecureOpenClawHost(
            self,
            "OpenClaw",
            ingress=HostIngress.load_balancer_with_cognito(
                domain_name="openclaw.example.com",
                hosted_zone=zone,
                cognito_domain_prefix="example-openclaw",
                firewall=HostFirewallOptions(rate_limit_per5_minutes=500, blocked_countries=["KP"]),
            ),
            persistent_agent_data=True,
            alarm_emails=["ops@example.com"],
            bedrock_audit=BedrockAudit.new_trail(
                cloud_watch_logs=True,
                model_invocation_logging=ModelInvocationLoggingOptions(cloud_watch_logs=True),
            ),
        )


if __name__ == "__main__":
    app = App()
    AlbCognitoStack(app, "OpenClawAlbCognito")
    app.synth()
