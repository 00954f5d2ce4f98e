"""The 政策匹配 tab's summary names the policies the enterprise is closest to, as the guided chat's
result and `policybot match` do, at a real `python app.py`."""

from __future__ import annotations

import pytest

from .test_match_form import app, form, index_dir, match  # noqa: F401 (fixtures)

pytestmark = pytest.mark.slow


def test_the_summary_lists_the_closest_policies_with_what_each_lacks(app):  # noqa: F811
    summary = match(app, form(revenue_wan="2.9亿元", rd_intensity="4.6"))["summary"]
    assert "最接近的政策（差距最小的不符合项）：" in summary
    listing = next(line for line in summary.splitlines() if "科创板上市培育" in line)
    assert "还差 0\\.4 个百分点才超过5%" in listing and "营业收入需超过3亿元，目前2\\.9亿元" in listing
