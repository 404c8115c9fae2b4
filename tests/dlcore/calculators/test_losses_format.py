"""Number formatting of the substituted formulas."""


def test_num_strips_only_the_zeros_of_decimals():
    from dlcore.calculators.losses_base import num

    assert [num(10000, 0), num(120, 0), num(2.0), num(0.5), num(-0.0)] == ["10000", "120", "2", "0.5", "0"]
