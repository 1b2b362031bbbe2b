"""spaCy's rule-based ``sentencizer`` with its token loop done by numpy.

spaCy's :class:`~spacy.pipeline.Sentencizer` looks at every token from Python (one
``Token`` object and one ``token.text`` string each); in fast mode that was about a tenth
of the whole analysis. :class:`ArraySentencizer` reads the token attributes it needs as
one array (``ORTH``, ``IS_PUNCT``, ``SENT_START``), finds the same sentence starts with
array operations and writes them back with ``Doc.from_array``: same boundaries, same
settings, same serialisation (it is a subclass).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
from spacy.attrs import IS_PUNCT, ORTH, SENT_START
from spacy.pipeline import Sentencizer
from spacy.strings import hash_string
from spacy.tokens import Doc

_ATTRS = [ORTH, IS_PUNCT, SENT_START]
_START = np.uint64(1)
#: ``sent_start = -1`` (not a start) as the ``uint64`` that ``Doc.from_array`` casts back.
_NOT_START = np.uint64(2**64 - 1)


class ArraySentencizer(Sentencizer):
    """Spacy's ``sentencizer`` (same ``punct_chars``, ``overwrite``, scorer and files),
    vectorised.

    A sentence starts at the first token and at every token that is neither punctuation
    (``is_punct``) nor in ``punct_chars`` and follows a token in ``punct_chars`` with only
    punctuation between them: spaCy's rule, token for token.

    Assigns ``Token.is_sent_start`` (``doc.sents``); keeps boundaries already set unless
    ``overwrite``.
    """

    _keys: np.ndarray | None = None
    _keys_of: object = None

    def _punct_keys(self) -> np.ndarray:
        # punct_chars may be replaced (from_bytes/from_disk): rebuild the hashes then
        if self._keys is None or self._keys_of is not self.punct_chars:
            self._keys = np.array(sorted({hash_string(c) for c in self.punct_chars}), dtype=np.uint64)
            self._keys_of = self.punct_chars
        return self._keys

    def predicted_starts(self, doc: Doc) -> np.ndarray:
        """Where this rule starts sentences in ``doc`` (bools, one per token; boundaries
        already set on the Doc are ignored, as in spaCy's ``Sentencizer.predict``)."""
        if not len(doc):
            return np.zeros(0, dtype=bool)
        return self._starts(doc.to_array(_ATTRS))

    def _starts(self, arr: np.ndarray) -> np.ndarray:
        n = len(arr)
        keys = self._punct_keys()
        orth = arr[:, 0]
        if len(keys):
            at = np.searchsorted(keys, orth)
            np.minimum(at, len(keys) - 1, out=at)
            period = keys[at] == orth
        else:
            period = np.zeros(n, dtype=bool)
        other = ~period & (arr[:, 1] == 0)
        # for each token, the last token at or before it that is a period or another
        # non-punctuation token (punctuation outside punct_chars changes nothing)
        last = np.maximum.accumulate(np.where(period | other, np.arange(n), -1))
        prev = last[:-1]
        starts = np.empty(n, dtype=bool)
        starts[0] = True
        starts[1:] = other[1:] & (prev >= 0) & period[prev]
        return starts

    def set_starts(self, doc: Doc) -> Doc:
        """Set the sentence starts of one Doc."""
        if not len(doc):
            return doc
        arr = doc.to_array(_ATTRS)
        values = np.where(self._starts(arr), _START, _NOT_START)
        preset = arr[:, 2]
        if not self.overwrite and preset.any():
            values = np.where(preset == 0, values, preset)
        doc.from_array([SENT_START], values)
        return doc

    def __call__(self, doc: Doc) -> Doc:
        error_handler = self.get_error_handler()
        try:
            return self.set_starts(doc)
        except Exception as e:  # noqa: BLE001 - spaCy's error handler decides (raises by default)
            error_handler(self.name, self, [doc], e)
            return doc

    def pipe(self, stream: Iterable[Doc], *, batch_size: int = 128) -> Iterator[Doc]:
        for doc in stream:
            yield self(doc)
