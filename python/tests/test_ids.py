"""Event ids: UUIDv7, growing with time."""

from __future__ import annotations

import re
import time
import unittest
import uuid

from agentwire.ids import new_id

UUID7 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


class IdsTest(unittest.TestCase):
    def test_uuidv7_with_the_current_time(self) -> None:
        before = time.time_ns() // 1_000_000
        value = new_id()
        after = time.time_ns() // 1_000_000
        self.assertRegex(value, UUID7)
        parsed = uuid.UUID(value)
        self.assertEqual(parsed.version, 7)
        self.assertEqual(parsed.variant, uuid.RFC_4122)
        self.assertTrue(before <= parsed.int >> 80 <= after)

    def test_ids_of_one_process_are_ordered_and_distinct(self) -> None:
        ids = [new_id() for _ in range(10_000)]
        self.assertEqual(sorted(ids), ids)
        self.assertEqual(len(set(ids)), len(ids))


if __name__ == "__main__":
    unittest.main()
