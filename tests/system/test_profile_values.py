"""Enterprise profile values a user or a prober might send, through `policybot match` and the web's
/match: non-finite and absurd numbers are refused naming the field and why, a wrong type is named in
Chinese, and no message echoes more than a short clip of what it refuses."""

from __future__ import annotations

import json

import pytest

from bot.cli import main
from bot.matching.profile import MAX_PROFILE_BYTES
from tests import webapp

REFUSED = [
    # (case, file name, content, field named, words in the message)
    ("nan-json", "p.json", '{"revenue_wan": NaN}', "revenue_wan", "不能是 NaN 或无穷大"),
    ("nan-yaml", "p.yaml", "rd_intensity: .nan\n", "rd_intensity", "不能是 NaN 或无穷大"),
    ("nan-count", "p.yaml", "employees: .nan\n", "employees", "不能是 NaN 或无穷大"),
    ("nan-talent-age", "p.json", '{"talents": [{"age": NaN}]}', "talents[0].age", "不能是 NaN 或无穷大"),
    ("infinity-json", "p.json", '{"total_assets_wan": Infinity}', "total_assets_wan", "不能是 NaN 或无穷大"),
    ("infinity-yaml", "p.yaml", "registered_years: .inf\n", "registered_years", "不能是 NaN 或无穷大"),
    ("infinity-text", "p.yaml", "revenue_wan: inf\n", "revenue_wan", "不能是 NaN 或无穷大"),
    ("1e308-money", "p.json", '{"revenue_wan": 1e308}', "revenue_wan", "超出合理范围（上限 1e+12 万元）"),
    ("1e13-money-text", "p.yaml", "rd_expense_wan: \"1e13\"\n", "rd_expense_wan", "超出合理范围"),
    ("huge-loss", "p.json", '{"taxable_income_wan": -1e308}', "taxable_income_wan", "超出合理范围（下限 -1e+12 万元）"),
    ("percent-over-1000", "p.yaml", "rd_intensity: 5000\n", "rd_intensity", "超出合理范围（上限 1000%）"),
    ("huge-share-3y", "p.json", '{"rd_share_3y": 1e300}', "rd_share_3y", "超出合理范围"),
    ("billions-of-staff", "p.yaml", "employees: 20000000000\n", "employees", "超出合理范围"),
    ("years-beyond-history", "p.yaml", "vc_holding_years: 1e9\n", "vc_holding_years", "超出合理范围"),
    ("digits-beyond-int64", "p.json", '{"employees": 1e20}', "employees", "超出合理范围"),
]


@pytest.mark.parametrize("name, content, field, words", [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_non_finite_and_absurd_numbers_are_refused_naming_the_field(name, content, field, words, tmp_path, capsys):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    assert main(["match", "--profile", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("错误：") and err.count("\n") == 1 and "Traceback" not in err, err
    assert f"企业画像字段 {field}" in err and words in err, err


WRONG_TYPES = [
    # (case, profile, field named, words): each message Chinese, no English validator text
    ("name-a-list", {"name": [1, 2]}, "name", "应为文字"),
    ("revenue-a-mapping", {"revenue_wan": {"a": 1}}, "revenue_wan", "应为数字"),
    ("ip-a-number", {"ip": 5}, "ip", "应为字段映射"),
    ("talent-a-string", {"talents": ["张三"]}, "talents[0]", "应为字段映射"),
    ("yes-no-a-list", {"is_hightech": [1]}, "is_hightech", "是/否"),
    ("date-a-list", {"registration_date": [2019]}, "registration_date", "应为日期"),
    ("count-a-huge-integer", {"employees": 10**30}, "employees", "超出合理范围"),
    ("money-a-huge-integer", {"revenue_wan": 10**400}, "revenue_wan", "应为数字"),
]


@pytest.mark.parametrize("data, field, words", [w[1:] for w in WRONG_TYPES], ids=[w[0] for w in WRONG_TYPES])
def test_a_field_of_the_wrong_type_gets_a_short_chinese_message_naming_it(data, field, words, tmp_path, capsys):
    path = tmp_path / "p.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert main(["match", "--profile", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"企业画像字段 {field}" in err and words in err, err
    assert "Input should" not in err and len(err) < 200, err


@pytest.mark.parametrize("data", [
    {"revenue_wan": "x" * 60_000},
    {"industry": ["长" * 20_000]},
    {"k" * 60_000: 1},
], ids=["long-string", "long-list-item", "long-field-name"])
def test_a_refused_value_is_clipped_in_the_message(data, tmp_path, capsys):
    path = tmp_path / "p.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert path.stat().st_size <= MAX_PROFILE_BYTES  # within the size limit: the field check answers
    assert main(["match", "--profile", str(path)]) == 2
    err = capsys.readouterr().err
    assert "企业画像字段" in err, err[:300]
    assert len(err) < 300 and "…" in err, err[:300]


def test_a_profile_above_64_kb_is_refused_by_size_before_parsing(tmp_path, capsys):
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"revenue_wan": "9" * 70_000}), encoding="utf-8")
    assert main(["match", "--profile", str(path)]) == 2
    err = capsys.readouterr().err
    assert "企业画像文件过大" in err and "上限 64 KB" in err and len(err) < 200, err[:300]


@pytest.mark.slow
def test_the_web_match_does_not_echo_a_megabyte_value(small_bot, small_corpus, tmp_path):
    from gradio_client.exceptions import AppError

    small_bot.ingest([small_corpus])
    log = tmp_path / "app.log"
    with webapp.web_app(small_bot.settings.index_dir, log, POLICYBOT_RATE_LIMIT="0") as url:
        with pytest.raises(AppError) as caught:
            webapp.client(url + "api/").predict(json.dumps({"revenue_wan": "x" * 1_000_000}), api_name="/match")
        webapp.wait_for_line(log, "match user-error")
    message = str(caught.value)
    assert len(message) < 300 and "x" * 50 not in message, message[:300]
    assert "企业画像过大" in message or ("revenue_wan" in message and "应为数字" in message), message
    assert log.stat().st_size < 50_000  # no megabyte log line either
