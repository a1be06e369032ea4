"""Why marks went or stayed: the rule map, the component table's
overruled/confidence columns and the page explanation, on hand-made pages
at 300 and 600 dpi (where the analysis runs at half resolution)."""

import numpy as np
import pytest

from despeckled.clean import clean_page
from despeckled.clean.explain import explain_page
from despeckled.clean.rules import RULE_NAMES, Rule, is_removal


def page(k: int) -> np.ndarray:
    """Body text, a lone '0' off the text (dust to the rules, a glyph to the
    guards) and a 2x2 speck, drawn at ``k`` times 300 dpi."""
    p = np.full((200 * k, 300 * k), 255, np.uint8)
    for i in range(3):
        for x in range(20, 280, 16):
            y = 30 + 40 * i
            p[y * k:(y + 21) * k, x * k:(x + 3) * k] = 0
            p[y * k:(y + 3) * k, x * k:(x + 11) * k] = 0
            p[y * k:(y + 21) * k, (x + 8) * k:(x + 11) * k] = 0
    p[150 * k:174 * k, 140 * k:143 * k] = p[150 * k:174 * k, 153 * k:156 * k] = 0
    p[150 * k:153 * k, 140 * k:156 * k] = p[171 * k:174 * k, 140 * k:156 * k] = 0
    p[185 * k:187 * k, 250 * k:252 * k] = 0
    return p


@pytest.mark.parametrize("k", [1, 2])
def test_rule_map_and_table_say_which_rule_or_guard_decided(k):
    r = clean_page(page(k), dpi=300 * k)
    rm = r.rule_map
    assert rm.shape == r.image.shape
    assert RULE_NAMES[rm[160 * k, 141 * k]] == "glyph-shaped"
    assert is_removal(rm[185 * k, 250 * k])
    assert rm[40 * k, 21 * k] == 0                      # plain text is not marked
    t = r.components
    zero = np.flatnonzero((t.x0 == 140 * k) & (t.y0 == 150 * k))
    assert zero.size == 1 and t.rule[zero[0]] == Rule.GLYPH_SHAPED and t.overruled[zero[0]] == Rule.DUST
    assert not t.removed[zero[0]] and t.confidence[zero[0]] == 0
    speck = np.flatnonzero(t.removed)
    assert speck.size == 1 and 0.5 <= t.confidence[speck[0]] <= 1


def test_explain_page_is_plain_json_data():
    import json

    r = clean_page(page(1), dpi=300)
    e = explain_page(r.components, 0)
    assert json.loads(json.dumps(e)) == e
    assert e["page"] == 1 and [x["box"] for x in e["removed"]] == [[250, 185, 251, 186]]
    assert e["kept_by_guard"][0]["reason"] == "glyph-shaped"
