"""Width folding: what folds, what stays, and that offsets survive."""

from __future__ import annotations

import pytest

from bot.text.width import compact, figures, fold


@pytest.mark.parametrize(
    "text, folded",
    [
        ("１０００万元", "1000万元"),
        ("研发投入占比５％", "研发投入占比5%"),
        ("４．５％", "4.5%"),
        ("ＡＩ产业", "AI产业"),
        ("应纳税额＝应纳税所得额×适用税率－减免税额", "应纳税额=应纳税所得额×适用税率-减免税额"),
        ("［1］", "[1]"),
        ("5～10人", "5~10人"),
        ("⼀流园区", "一流园区"),  # a Kangxi radical from a PDF
        # kept: Chinese punctuation that sentences, quotes and clause numbers rely on
        ("（一）加快转化，建设中心；目标：！？", "（一）加快转化，建设中心；目标：！？"),
        ("第一条　为了", "第一条　为了"),  # the ideographic space after an article number
        ("《方案》“1+N”【1】〔2016〕、。", "《方案》“1+N”【1】〔2016〕、。"),
        # kept: numbers NFKC would turn into plain digits
        ("①申请书②营业执照", "①申请书②营业执照"),
        ("500m²", "500m²"),
        ("㊀", "㊀"),
        ("……", "……"),
    ],
)
def test_fold_folds_widths_and_keeps_chinese_punctuation(text, folded):
    assert fold(text) == folded


def test_an_offset_in_folded_text_is_an_offset_in_the_original():
    text = "（三）企业年销售收入５，０００万元以上的，按①项办理……"
    folded = fold(text)
    assert len(folded) == len(text)
    start = folded.index("5，000万元")
    assert text[start : start + len("5，000万元")] == "５，０００万元"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("5,000万元", "5000万元"),
        ("１，０００万元", "1000万元"),
        ("1,000,000元", "1000000元"),
        ("2.5％", "2.5%"),
        ("2021，100家企业", "2021，100家企业"),  # a list, not a thousands separator
        ("5，10，100", "5，10，100"),
        ("1,2条", "1,2条"),
        ("奖励5,000，另有", "奖励5000，另有"),
        ("加快转化，建设中心", "加快转化，建设中心"),
    ],
)
def test_figures_drops_thousands_separators_only(text, expected):
    assert figures(text) == expected


@pytest.mark.parametrize(
    "wording, clause",
    [
        ("小于5,000万元(含)", "最近一年销售收入小于5，000万元（含）；"),
        ("比例不低于10%", "比例不低于10％"),
        ("1000万元", "给予不超过1,000 万元支持"),
        ("科技人员占比", "科技人员 占比"),
    ],
)
def test_compact_finds_a_wording_however_wide_or_spaced(wording, clause):
    assert compact(wording) in compact(clause)
