"""The learned tagger: words, windows, merging at window edges and BIO decoding with a fake session, exact;
then the shipped model on sentences written for these tests."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from tokenizers import Tokenizer, normalizers, pre_tokenizers
from tokenizers.models import WordPiece

from broadsheet.tasks.enrich.tagger import (
    ALL_CAPS,
    CAPITALISED,
    CONTINUED,
    DIGIT,
    LOWER,
    OTHER,
    EntitySpan,
    Tagger,
    case_id,
    decode,
    encode,
    load_tagger,
    merge,
    shape,
    windows,
    words,
)

LABELS = ("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC")
VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "alice", "smith", "visited", "paris", "with", "acme", "corp",
         "and", "the", "mc", "##donald", "said", ".", ",", "on", "monday", "french"]
# What the fake model says of each word in context: an entity word after a word of the same entity
# continues it; the first word of a window is always a beginning (the model cannot see what came before).
ENTITY = {"alice": "PER", "smith": "PER", "mc": "PER", "##donald": "PER", "paris": "LOC", "acme": "ORG",
          "corp": "ORG", "french": "MISC"}


def tiny_tokenizer() -> Tokenizer:
    tokenizer = Tokenizer(WordPiece({w: i for i, w in enumerate(VOCAB)}, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    return tokenizer


class FakeSession:
    """Labels tokens by the table above, and records the windows it was given."""

    def __init__(self) -> None:
        self.seen: list[list[str]] = []

    def run(self, _outputs: object, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        ids, mask = feeds["input_ids"], feeds["attention_mask"]
        logits = np.zeros((*ids.shape, len(LABELS)), dtype=np.float32)
        for row in range(ids.shape[0]):
            tokens = [VOCAB[i] for i in ids[row, : mask[row].sum()]]
            self.seen.append(tokens)
            previous = None
            for col, token in enumerate(tokens):
                kind = ENTITY.get(token)
                tag = "O" if kind is None else ("I-" if previous == kind else "B-") + kind
                logits[row, col, LABELS.index(tag)] = 1.0
                previous = kind
        return [logits]


def fake_tagger(max_length: int = 128, overlap: int = 2, batch_size: int = 4) -> tuple[Tagger, FakeSession]:
    session = FakeSession()
    return Tagger(session, tiny_tokenizer(), LABELS, max_length, overlap, batch_size), session


def test_words_are_cut_as_newswire_is() -> None:
    text = "Mr. Smith's firm, Acme Corp. (AT&T) moved to the U.S. on Monday, S. Waugh said."
    assert [text[a:b] for a, b in words(text)] == [
        "Mr.", "Smith", "'s", "firm", ",", "Acme", "Corp.", "(", "AT&T", ")", "moved", "to", "the", "U.S.",
        "on", "Monday", ",", "S.", "Waugh", "said", "."]


@pytest.mark.parametrize(("piece", "expected"), [
    ("paris", LOWER), ("Paris", CAPITALISED), ("NATO", ALL_CAPS), ("A", CAPITALISED), ("G7", DIGIT), ("-", OTHER),
    ("iPhone", CAPITALISED)])
def test_shape(piece: str, expected: int) -> None:
    assert shape(piece) == expected


def test_case_id_marks_pieces_inside_a_word() -> None:
    assert case_id("Donald", continued=True) == CAPITALISED + CONTINUED


def test_encode_gives_offsets_into_the_text() -> None:
    text = "Alice  McDonald visited PARIS."
    encoded = encode(tiny_tokenizer(), text)
    assert [text[a:b] for a, b in encoded.offsets] == ["Alice", "Mc", "Donald", "visited", "PARIS", "."]
    assert encoded.cases[1:3] == [CAPITALISED, CAPITALISED + CONTINUED]
    assert encoded.cases[4] == ALL_CAPS


def test_windows_cover_everything_with_overlap_and_start_at_words() -> None:
    word_ids = [0, 1, 1, 2, 3, 4, 4, 4, 5, 6, 7, 8, 9, 9, 10, 11, 12]
    found = windows(word_ids, size=6, overlap=2)
    assert found[0][0] == 0 and found[-1][1] == len(word_ids)
    for (a, b), (c, _) in itertools.pairwise(found):
        assert b - a <= 6 and c < b  # within size, and overlapping the next
        assert c == 0 or word_ids[c] != word_ids[c - 1]  # starts at a word
    assert all(b - a <= 6 for a, b in found)


def test_windows_of_a_short_text_is_one() -> None:
    assert windows([0, 1, 2], size=126, overlap=32) == [(0, 3)]
    assert windows([], size=126, overlap=32) == []


def test_merge_takes_each_label_from_the_window_where_it_is_most_central() -> None:
    # Window A has tokens 0-5, B tokens 3-8. Distances to A's right edge: token 3 2, token 4 1, token 5 0;
    # to B's left edge: 0, 1, 2. Token 3 is A's, token 5 B's, and token 4 (a tie) the earlier window's.
    results = [((0, 6), np.full((6, 2), 1.0)), ((3, 9), np.full((6, 2), 2.0))]
    assert merge(9, results)[:, 0].tolist() == [1, 1, 1, 1, 1, 2, 2, 2, 2]


def test_decode_bio_to_character_spans() -> None:
    text = "Alice Smith visited Paris with Acme Corp and the French."
    tagger, _ = fake_tagger()
    assert located(tagger.tag(text)) == [EntitySpan(0, 11, "person"), EntitySpan(20, 25, "place"),
                                EntitySpan(31, 40, "organization")]


def test_decode_widens_a_span_to_its_whole_word() -> None:
    text = "McDonald said"
    encoded = encode(tiny_tokenizer(), text)
    assert located(decode(text, encoded, one_hot(["B-PER", "O", "O"]), LABELS)) == [EntitySpan(0, 8, "person")]


def located(spans: list[EntitySpan]) -> list[EntitySpan]:
    """The spans without the tagger's beliefs (``shares``), for comparing where and what they are."""
    return [span._replace(shares=None) for span in spans]


def test_a_span_carries_the_tagger_belief_over_the_types() -> None:
    text = "Camp Liberty residents"
    encoded = encode(tiny_tokenizer(), text)
    probabilities = np.full((len(encoded.ids), len(LABELS)), 1e-9)
    # Two words of the span: ORG 0.6 / LOC 0.3 / MISC 0.1 then ORG 0.2 / LOC 0.8; the third word is outside.
    for row, shares in enumerate([{"B-ORG": 0.6, "B-LOC": 0.3, "B-MISC": 0.1}, {"I-ORG": 0.2, "I-LOC": 0.8},
                                  {"O": 1.0}]):
        for tag, p in shares.items():
            probabilities[row, LABELS.index(tag)] = p
    [span] = decode(text, encoded, np.log(probabilities), LABELS)
    assert (span.start, span.end, span.type) == (0, 12, "place")
    organisation, place = (0.6 + 0.2) / 2, (0.3 + 0.8) / 2  # means over the span; MISC is not a type
    assert span.shares == pytest.approx((0.0, organisation / (organisation + place), place / (organisation + place)),
                                        abs=1e-6)


def one_hot(tags: list[str]) -> np.ndarray:
    scores = np.full((len(tags), len(LABELS)), -10.0)
    for row, tag in enumerate(tags):
        scores[row, LABELS.index(tag)] = 0.0
    return scores


def test_decode_keeps_bio_valid_and_one_type_per_span() -> None:
    text = "Republic of Ireland"
    encoded = encode(tiny_tokenizer(), text)
    scores = one_hot(["B-LOC", "I-ORG", "I-LOC"])
    scores[1, LABELS.index("I-LOC")] = -1.0  # the model's second choice for "of"
    assert located(decode(text, encoded, scores, LABELS)) == [EntitySpan(0, 19, "place")]


def test_decode_takes_an_abbreviation_dot_and_drops_edge_brackets() -> None:
    text = "( U.S. )"
    encoded = encode(tiny_tokenizer(), text)
    assert [text[a:b] for a, b in encoded.offsets] == ["(", "U", ".", "S", ".", ")"]
    tags = ["B-LOC", "I-LOC", "I-LOC", "I-LOC", "O", "O"]  # "(" in, the last dot of "U.S." left out
    assert located(decode(text, encoded, one_hot(tags), LABELS)) == [EntitySpan(2, 6, "place")]


def test_a_span_cut_by_a_window_edge_comes_out_once_and_whole() -> None:
    sentence = "Alice Smith visited Paris with Acme Corp on Monday. "
    text = sentence * 6
    tagger, session = fake_tagger(max_length=8, overlap=3)
    found = tagger.tag(text)
    assert len(session.seen) > 6  # many windows, so names were cut at their edges
    assert any(window[1] == "smith" for window in session.seen)  # one began inside "Alice Smith"
    expected = []
    for start in range(0, len(text), len(sentence)):
        expected += [EntitySpan(start, start + 11, "person"), EntitySpan(start + 20, start + 25, "place"),
                     EntitySpan(start + 31, start + 40, "organization")]
    assert located(found) == expected
    assert all(len(window) <= 8 for window in session.seen)


def test_tag_many_keeps_texts_apart_and_in_order() -> None:
    tagger, _ = fake_tagger(batch_size=2)
    assert [located(f) for f in tagger.tag_many(["Paris", "", "nothing here", "Alice said"])] == [
        [EntitySpan(0, 5, "place")], [], [], [EntitySpan(0, 5, "person")]]


@pytest.fixture(scope="module")
def shipped() -> Tagger:
    return load_tagger(1)


def typed(text: str, spans: list[EntitySpan]) -> set[tuple[str, str]]:
    return {(text[s.start:s.end], s.type) for s in spans}


def test_shipped_model_tags_a_person_a_city_and_a_company(shipped: Tagger) -> None:
    text = "Maria Lindqvist, the chief executive of Nordwave Energy, flew to Halifax on Tuesday."
    assert typed(text, shipped.tag(text)) == {("Maria Lindqvist", "person"), ("Nordwave Energy", "organization"),
                                              ("Halifax", "place")}


def test_shipped_model_tags_a_long_text_whole(shipped: Tagger) -> None:
    sentence = "Prime Minister Jacinda Ardern met officials from the World Bank in Wellington. "
    text = sentence * 40  # far beyond one window
    found = typed(text, shipped.tag(text))
    assert found == {("Jacinda Ardern", "person"), ("World Bank", "organization"), ("Wellington", "place")}
    assert len(shipped.tag(text)) == 3 * 40


def test_a_text_is_tagged_the_same_whatever_else_is_in_the_call(shipped: Tagger) -> None:
    text = "Maria Lindqvist, the chief executive of Nordwave Energy, flew to Halifax on Tuesday."
    others = ["The council of Fort Alder met on Monday.", "Short.",
              "Officials from the World Bank met ministers in Wellington and Canberra. " * 12]
    alone = shipped.tag_many([text])[0]
    beside = shipped.tag_many([others[0], text, *others[1:]])[1]
    assert beside == alone and all(span.shares for span in alone)  # the beliefs too, to the last bit
