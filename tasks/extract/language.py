"""Language identification that says "unknown" rather than guess: short and tabular text stays taggable.

py3langid guesses a language for any text, and on a results table or a list of names it often guesses
Dutch, Javanese or Nigerian Pidgin with little confidence, which kept English articles from being tagged.
Here only the words are judged (numbers and punctuation dropped), a text of too few words is unknown,
only a candidate set of languages may win, and a winner below the confidence floor is unknown too.
Unknown is ``None``, and the entity stage tags articles of unknown language.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from broadsheet.config.settings import LANGUAGE_CANDIDATES

SAMPLE_CHARS = 3000
MIN_WORDS = 6
_NOT_LETTERS = re.compile(r"[\W\d_]+")


@lru_cache(maxsize=4)
def _identifier(candidates: tuple[str, ...]) -> Any:
    """py3langid's identifier over the candidates' columns only. ``set_languages`` would keep the whole model
    beside them (28 MB of probabilities in every process that extracts); a new identifier keeps what it uses."""
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    whole = LanguageIdentifier.from_modelpath(MODEL_DIR / MODEL_FILE, norm_probs=True)
    if not candidates:
        return whole
    kept = [i for i, code in enumerate(whole.nb_classes) if code in set(candidates)]
    return LanguageIdentifier(whole.nb_ptc[:, kept], whole.nb_pc[kept], [whole.nb_classes[i] for i in kept],
                              whole.tk_nextmove, whole.tk_output, norm_probs=True, tk_row=whole.tk_row)


def words_of(text: str) -> str:
    """The text's words only: numbers, punctuation and table rules become single spaces."""
    return " ".join(_NOT_LETTERS.sub(" ", text[:SAMPLE_CHARS]).split())


def detect_language(text: str, candidates: tuple[str, ...] = LANGUAGE_CANDIDATES, min_confidence: float = 0.8,
                    ) -> str | None:
    """ISO 639-1 code of the text's language, or None (unknown) when too short or not confident enough."""
    sample = words_of(text)
    if len(sample.split()) < MIN_WORDS and not _is_unspaced_script(sample):
        return None
    code, confidence = _identifier(tuple(candidates)).classify(sample)
    return str(code) if confidence >= min_confidence else None


def language_fit(text: str, candidates: tuple[str, ...] = LANGUAGE_CANDIDATES) -> float:
    """How surely the words of ``text`` are in one language, 0 to 1: a page read in its right charset is.

    The charset's judge (:func:`broadsheet.tasks.fetch.charset.decode_html`): its readings share their ASCII
    words and differ in the others ("à" or "ŕ"), which a language model tells apart.
    """
    sample = words_of(text)
    return float(_identifier(tuple(candidates)).classify(sample)[1]) if sample else 0.0


def _is_unspaced_script(sample: str) -> bool:
    """Chinese, Japanese and Thai write many words without spaces: judge them by characters."""
    return len(sample) >= 20 and sum(ord(c) > 0x2E80 or 0x0E00 <= ord(c) <= 0x0E7F for c in sample) > len(sample) / 2
