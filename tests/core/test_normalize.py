"""Phone, e-mail and name normalisers shared by search and duplicate detection."""
import pytest

from core.normalize import email_key, name_key, phone_digits


@pytest.mark.parametrize("typed", ["+86 138-0013-8000", "0086 138 0013 8000", "8613800138000", "138 0013 8000",
                                   "(138) 0013-8000", "13800138000"])
def test_mobile_numbers_lose_country_code_and_punctuation(typed):
    assert phone_digits(typed) == "13800138000"


def test_landlines_keep_their_area_code_and_short_numbers_keep_86():
    assert phone_digits("010-6552 9988") == "01065529988"
    assert phone_digits("86-21-12345678") == "862112345678"  # not a mobile after the 86: left alone
    assert phone_digits(None) == ""


def test_email_key():
    assert email_key("  Zhang.San@HuaHong.COM ") == "zhang.san@huahong.com"


@pytest.mark.parametrize("a, b", [
    ("上海华宏贸易有限公司", "上海华宏贸易"), ("北京远大科技股份有限公司", "北京远大科技"),
    ("华为集团", "华为"), ("ACME Co., Ltd.", "acme"), ("Ｆｏｏ Inc.", "foo"), ("Bar LLC", "bar  "),
    ("张 三", "张三"), ("Globex Limited", "GLOBEX"),
])
def test_names_compare_without_suffix_case_width_and_punctuation(a, b):
    assert name_key(a) == name_key(b)


def test_name_key_keeps_words_that_merely_end_like_a_suffix():
    assert name_key("Costco") == "costco"
    assert name_key("Zinc") == "zinc"
    assert name_key("公司") == "公司"  # never reduced to nothing
