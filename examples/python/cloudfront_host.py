#!/usr/bin/env python3
"""A gateway on the internet with no public origin.

CloudFront and a CLOUDFRONT-scope WAF in front, reaching the private instance through a VPC origin. The web ACL
is managed in us-east-1 from the stack's region and the certificate is requested there through the hosted zone.
"""
from aws_cdk import App, Stack
from aws_cdk import aws_route53 as route53
from constructs import Construct

from cdk_openclaw import EdgeFirewallOptions, HostIngress, SecureOpenClawHost


class CloudFrontHostStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        zone = route53.HostedZone.from_hosted_zone_attributes(
            self, "Zone", hosted_zone_id="Z0123456789EXAMPLE", zone_name="example.com"
        )
        SecureOpenClawHost(
            self,
            "OpenClaw",
            ingress=HostIngress.cloud_front(
                domain_name="openclaw.example.com",
                hosted_zone=zone,
                firewall=EdgeFirewallOptions(rate_limit_per5_minutes=500, blocked_countries=["KP"]),
            ),
            alarm_emails=["ops@example.com"],
        )


if __name__ == "__main__":
    app = App()
    CloudFrontHostStack(app, "OpenClawCloudFrontHost")
    app.synth()
