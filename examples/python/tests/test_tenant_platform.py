"""A Python user gets the tenant platform with the kubectl layer from PyPI, and its errors.

Run from this folder with `python -m unittest discover -s tests`.
"""
import os
import sys
import unittest

from aws_cdk import App, Stack
from aws_cdk.assertions import Template

from cdk_openclaw import BudgetEnforcement, OpenClawTenantPlatform

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tenant_platform import TenantPlatformStack  # noqa: E402


class TenantPlatformTest(unittest.TestCase):
    def test_the_reference_app_uses_the_kubectl_layer_from_pypi_and_declares_two_tenants(self) -> None:
        stack = TenantPlatformStack(App(context={"aws:cdk:disable-asset-staging": True}), "Test")
        template = Template.from_stack(stack)
        layers = template.find_resources("AWS::Lambda::LayerVersion")
        self.assertTrue(any("KubectlLayer" in logical_id for logical_id in layers))
        template.resource_count_is("AWS::EKS::Cluster", 1)
        platform = stack.node.find_child("Platform")
        names = [t.tenant_name for t in platform.tenants]
        self.assertEqual(names, ["acme", "globex"])
        # Self-service is on: its user pool exists and the sign-in page is under /auth/.
        template.resource_count_is("AWS::Cognito::UserPool", 1)
        self.assertTrue(platform.self_service.sign_in_url.endswith("/auth/"))
        # Budgets block at 100 %; alerts go to the finance address.
        self.assertEqual(platform.budgets.enforcement, BudgetEnforcement.BLOCK)
        template.has_resource_properties("AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "finops@example.com"})

    def test_a_bad_tenant_name_fails_with_the_prop_the_value_and_what_is_allowed(self) -> None:
        stack = Stack(App(), "Test")
        platform = OpenClawTenantPlatform(stack, "Platform")
        with self.assertRaises(Exception) as raised:
            platform.add_tenant("Acme Corp")
        self.assertIn("Test/Platform: tenant name must be a DNS label", str(raised.exception))
        self.assertIn("got 'Acme Corp'", str(raised.exception))


if __name__ == "__main__":
    unittest.main()
