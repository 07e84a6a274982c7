"""A Python user gets the same clear errors as a TypeScript user.

Run from this folder with `python -m unittest discover -s tests`.
"""
import unittest

from aws_cdk import App, Size, Stack

from cdk_openclaw import HostIngress, SecureOpenClawHost


class BadInputTest(unittest.TestCase):
    def setUp(self) -> None:
        self.stack = Stack(App(), "Test")

    def test_a_bad_value_fails_with_the_prop_the_value_and_what_is_allowed(self) -> None:
        with self.assertRaises(Exception) as raised:
            SecureOpenClawHost(self.stack, "OpenClaw", root_volume_size=Size.gibibytes(6))
        message = str(raised.exception)
        self.assertIn("Test/OpenClaw: rootVolumeSize must be a whole number of GiB from 8 to 16384, got '6 GiB'", message)

    def test_a_bad_nested_value_names_its_path(self) -> None:
        with self.assertRaises(Exception) as raised:
            SecureOpenClawHost(
                self.stack, "OpenClaw", ingress=HostIngress.public_instance(allowed_cidrs=["203.0.113.0/33"])
            )
        self.assertIn("ingress.allowedCidrs must be a list of IPv4 CIDR blocks", str(raised.exception))
        self.assertIn("got '203.0.113.0/33'", str(raised.exception))

    def test_a_wrong_type_fails_before_anything_is_built(self) -> None:
        with self.assertRaises(TypeError) as raised:
            SecureOpenClawHost(self.stack, "OpenClaw", root_volume_size=20)
        self.assertIn("root_volume_size", str(raised.exception))


if __name__ == "__main__":
    unittest.main()
