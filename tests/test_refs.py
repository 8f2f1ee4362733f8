from webapp.catalog.refs import Ref, parse_page_ref, parse_ref


def test_refs_name_witnesses_digitizations_and_regions() -> None:
    assert parse_ref("wit3") == Ref(3)
    assert parse_ref("wit3_man186") == Ref(3, "man", 186)
    assert parse_ref("wit3_man186_anno189") == Ref(3, "man", 186, 189)
    assert parse_ref("wit12_img4") == Ref(12, "img", 4)
    assert parse_ref("wit12_pdf4") == Ref(12, "pdf", 4)


def test_malformed_refs_are_refused() -> None:
    for text in [
        "",
        "wit",
        "witx",
        "wit3_",
        "wit3_foo1",
        "wit3_anno2",
        "wit3_man",
        "x_wit3",
        "wit3_man186_anno",
        "wit3_man186 ",
        "../wit3",
    ]:
        assert parse_ref(text) is None, text


def test_page_refs_carry_a_four_digit_order() -> None:
    assert parse_page_ref("wit3_man186_0009") == (Ref(3, "man", 186), 9)
    assert parse_page_ref("wit3_man186_12345") == (Ref(3, "man", 186), 12345)
    assert parse_page_ref("wit3_man186_9") is None
    assert parse_page_ref("wit3_0009") is None
