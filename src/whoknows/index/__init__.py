"""Search index: one ranking contract, BM25 and vector retrievers, fusion, evaluation, persistence.

Entry points: :class:`SearchIndex` (build/open/add/delete/search), :class:`Doc`, :class:`Filters`,
:func:`evaluate`. Embedders live in :mod:`whoknows.index.embedders`.
"""

from whoknows.index.compose import Cutoff, Pipeline, RRFFusion, rrf_scores
from whoknows.index.contract import NO_FILTER, Filters, Ranker, Reranker, Scored
from whoknows.index.doc import Doc
from whoknows.index.errors import (
    ExtraMissingError,
    IndexCorruptError,
    IndexMissingError,
    IndexStaleError,
    IndexWrongDatabaseError,
    SearchIndexError,
)
from whoknows.index.evaluate import evaluate, format_table
from whoknows.index.search_index import SearchIndex, SearchResult

__all__ = [
    "NO_FILTER",
    "Cutoff",
    "Doc",
    "ExtraMissingError",
    "Filters",
    "IndexCorruptError",
    "IndexMissingError",
    "IndexStaleError",
    "IndexWrongDatabaseError",
    "Pipeline",
    "RRFFusion",
    "Ranker",
    "Reranker",
    "Scored",
    "SearchIndex",
    "SearchIndexError",
    "SearchResult",
    "evaluate",
    "format_table",
    "rrf_scores",
]
