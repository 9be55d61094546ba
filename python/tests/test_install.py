"""The suite runs against the package pip installed, not the source folder next to it."""

from __future__ import annotations

import os
import sys
import unittest

import agentwire


class InstallTest(unittest.TestCase):
    @unittest.skipUnless(
        os.environ.get("AGENTWIRE_INSTALLED") == "1",
        "python-sdk.test.ts installs the package first",
    )
    def test_the_installed_package_is_the_one_tested(self) -> None:
        self.assertTrue(
            os.path.abspath(agentwire.__file__).startswith(os.path.abspath(sys.prefix)),
            agentwire.__file__,
        )
