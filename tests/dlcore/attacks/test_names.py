"""The torch-free names (dlcore.attacks.names) are the registries' own: one list for the code and the UI."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from tests.conftest import ROOT


def test_importing_the_names_does_not_import_torch():
    code = ("import sys; import dlcore.attacks.names as n; import dlcore.attacks; "
            "print('torch' in sys.modules, len(n.ATTACK_NAMES))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "8"]


def test_the_names_are_the_registries():
    from dlcore.attacks import ATTACKS, SUBSTITUTE_ARCHS, attack_names, names
    from dlcore.defenses import ADAPTIVE_MODES, DEFENSES

    assert tuple(ATTACKS) == names.ATTACK_NAMES
    for n, spec in ATTACKS.items():
        assert spec.display_name == names.ATTACK_DISPLAY[n] and spec.family == names.ATTACK_FAMILY[n]
    assert attack_names("white-box") == names.WHITE_BOX and attack_names("black-box") == names.BLACK_BOX
    assert tuple(SUBSTITUTE_ARCHS) == names.SUBSTITUTE_ARCH_NAMES
    assert tuple(DEFENSES) == names.DEFENSE_NAMES
    assert all(DEFENSES[d].display_name == names.DEFENSE_DISPLAY[d] for d in DEFENSES)
    assert ADAPTIVE_MODES == names.ADAPTIVE_MODES
    assert set(names.LAB_DEFAULTS) == set(ATTACKS)


@pytest.mark.parametrize("name", ["fgsm", "bim", "pgd", "pgd_l2", "notes", "finite_difference", "nes", "spsa"])
def test_every_lab_default_builds_its_attack_and_differs_from_the_paper_only_where_it_says(name):
    from dlcore.attacks import ATTACKS, kurakin_steps, make_attack

    lab = names_lab(name)
    atk = make_attack(name, torch.nn.Flatten(), **lab["options"])  # validates every option
    assert atk.config.eps == lab["options"]["eps"]
    paper = ATTACKS[name].defaults()
    assert lab["paper"], "each entry says what the paper used"
    if name == "bim":
        assert lab["options"]["steps"] == kurakin_steps(lab["options"]["eps"]) and lab["options"]["alpha"] == paper["alpha"]
    if name == "pgd":
        assert (paper["eps"], paper["alpha"], paper["steps"]) == (0.3, 0.01, 40)  # Madry et al. 2018


def names_lab(name: str) -> dict:
    from dlcore.attacks.names import LAB_DEFAULTS

    return LAB_DEFAULTS[name]
