"""The parser against the hand-labelled corpora in tests/fixtures/sms (see bench/sms_parser.py).

corpus.jsonl is the set the parser was tuned on; heldout.jsonl and outsiders.jsonl (issue 12: 419
messages, compound ones labelled with `also`) were written afterwards by people who saw neither the
parser nor the sets before. All three must be read at least 95% right, with no silent misread (a wrong
action nobody hears of). heldout2/3/4.jsonl, written last, are measured, not held to a figure (README:
their first looks; heldout4's misses have never been read).
"""

import pytest

from bench import sms_parser
from bot.domain import intents

CORPORA = ["corpus.jsonl", "heldout.jsonl", "outsiders.jsonl"]


@pytest.mark.parametrize("name", CORPORA)
def test_the_parser_reads_at_least_95_percent_of_each_corpus_right(name: str) -> None:
    cases = sms_parser.load(sms_parser.CORPUS.with_name(name))
    readings = [sms_parser.read(case) for case in cases]
    right = sum(r.right for r in readings)
    assert right / len(readings) >= 0.95, [r.case.text for r in readings if not r.right]
    assert [r.case.text for r in readings if r.silent] == []


def test_the_tuning_corpus_holds_at_least_200_messages() -> None:
    assert len(sms_parser.load()) >= 200


@pytest.mark.parametrize("name", CORPORA)
def test_both_languages_and_every_intent_are_in_each_corpus(name: str) -> None:
    cases = sms_parser.load(sms_parser.CORPUS.with_name(name))
    assert {c.locale for c in cases} == {"en", "de"}
    common = (intents.Confirm, intents.AskSlots, intents.Status, intents.Help)
    named = {sms_parser.name(cls()) for cls in common}
    assert named <= {c.expected["intent"] for c in cases}


def test_the_bench_prints_its_figures_last(capsys: pytest.CaptureFixture[str]) -> None:
    sms_parser.main([])
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("sms_parser n=354 accuracy_pct=")
    figures = dict(pair.split("=") for pair in last.split()[1:])
    assert float(figures["accuracy_pct"]) >= 95
    assert figures["silent"] == "0"
