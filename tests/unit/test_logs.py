import logging

import pytest

from bot.logs import PhoneMaskFilter, mask_phones


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("sent to +4915123456789", "sent to +4915*******89"),
        ("GET /api/deliveries?q=%2B4915123456789", "GET /api/deliveries?q=%2B4915*******89"),
        ("call 0151 2345 6789 now", "call 0151******89 now"),
        ("order ORD-20261123-0007 at 09:30", "order ORD-20261123-0007 at 09:30"),
        ("plan v3: 200 stops in 1234 ms", "plan v3: 200 stops in 1234 ms"),
    ],
)
def test_phone_numbers_are_masked_and_other_numbers_kept(text: str, masked: str) -> None:
    assert mask_phones(text) == masked


def test_the_filter_masks_formatted_arguments(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("doorstep.test")
    logger.addFilter(PhoneMaskFilter())
    with caplog.at_level(logging.INFO, logger="doorstep.test"):
        logger.info("reply from %s: %s", "+4917612345678", "ok")
    assert caplog.messages == ["reply from +4917*******78: ok"]
