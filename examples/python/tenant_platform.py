#!/usr/bin/env python3
"""Multi-tenant OpenClaw on EKS.

One gateway per tenant in its own namespace, reached at https://tenants.example.com/t/<tenant>/ through CloudFront
and its web ACL (the certificate is requested in us-east-1 through the hosted zone). Two tenants are declared in code;
people of example.com sign up for more.

The kubectl layer: a published layer when the context value kubectlLayerArn is set, otherwise KubectlV35Layer from
aws-cdk.lambda-layer-kubectl-v35 (pip install aws-cdk.lambda-layer-kubectl-v35).
"""
from aws_cdk import App, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_route53 as route53
from aws_cdk.lambda_layer_kubectl_v35 import KubectlV35Layer
from constructs import Construct

from cdk_openclaw import (
    BudgetEnforcement,
    OpenClawImageOptions,
    OpenClawTenantPlatform,
    PlatformEdgeOptions,
    SelfServiceOptions,
    TenantBudgetOptions,
)


class TenantPlatformStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        layer_arn = self.node.try_get_context("kubectlLayerArn")
        kubectl_layer = (
            lambda_.LayerVersion.from_layer_version_arn(self, "KubectlLayer", layer_arn)
            if layer_arn
            else KubectlV35Layer(self, "KubectlLayer")
        )
        zone = route53.HostedZone.from_hosted_zone_attributes(
            self, "Zone", hosted_zone_id="Z0123456789EXAMPLE", zone_name="example.com"
        )
        platform = OpenClawTenantPlatform(
            self,
            "Platform",
            edge=PlatformEdgeOptions(domain_name="tenants.example.com", hosted_zone=zone),
            kubectl_layer=kubectl_layer,
            image=OpenClawImageOptions(
                tag="2026.9.6",
                digest="sha256:0e5f0c1b9f4e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c",
            ),
            router_image=OpenClawImageOptions(
                tag="1.30.4-alpine",
                digest="sha256:4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b",
            ),
            alarm_emails=["ops@example.com"],
            # Self-service: example.com addresses sign up at /auth/ and get their own gateway (docs/self-service.md).
            self_service=SelfServiceOptions(allowed_email_domains=["example.com"]),
            # Budgets (on by default): measured hourly from Bedrock's invocation logs; at 100 % a tenant's Bedrock
            # calls are denied until the month ends or its budget is raised (docs/budgets.md).
            budgets=TenantBudgetOptions(enforcement=BudgetEnforcement.BLOCK, alert_emails=["finops@example.com"]),
        )
        platform.add_tenant("acme")
        platform.add_tenant("globex", budget_usd=250, memory="16Gi")


if __name__ == "__main__":
    app = App()
    TenantPlatformStack(app, "OpenClawTenantPlatform")
    app.synth()
