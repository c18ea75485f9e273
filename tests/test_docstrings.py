"""Docstrings in the four styles: description, parameter texts, returns."""

from __future__ import annotations

import keyword
from typing import Annotated

from hypothesis import given
from hypothesis import strategies as st

from toolkit import tool
from toolkit.schema import parse_docstring

GOOGLE = '''Add two numbers.

    Longer text.

    Args:
        a: The first.
        b: The second.

    Returns:
        The sum.
    '''
NUMPY = '''Add two numbers.

    Longer text.

    Parameters
    ----------
    a : int
        The first.
    b : int
        The second.

    Returns
    -------
    int
        The sum.
    '''
REST = '''Add two numbers.

    Longer text.

    :param a: The first.
    :param b: The second.
    :returns: The sum.
    '''
EPYDOC = '''Add two numbers.

    Longer text.

    @param a: The first.
    @param b: The second.
    @return: The sum.
    '''


def test_every_style_parses_the_same():
    for doc in (GOOGLE, NUMPY, REST, EPYDOC):
        parsed = parse_docstring(doc)
        assert parsed.description == "Add two numbers.\n\nLonger text.", doc
        assert parsed.params == {"a": "The first.", "b": "The second."}, doc
        assert parsed.returns == "The sum.", doc


def test_tool_description_appends_returns_and_annotated_wins():
    def add(a: Annotated[int, "From Annotated."], b: int) -> int:
        return a + b

    add.__doc__ = GOOGLE
    built = tool(add)
    assert built.description == "Add two numbers.\n\nLonger text.\n\nReturns: The sum."
    assert built.parameters["properties"] == {"a": {"type": "integer", "description": "From Annotated."},
                                              "b": {"type": "integer", "description": "The second."}}


def test_undocumented_parameters_are_allowed():
    @tool
    def f(x: int, y: str = "a"):
        """Only a summary."""

    assert f.description == "Only a summary."
    assert f.parameters["properties"] == {"x": {"type": "integer"}, "y": {"type": "string", "default": "a"}}


identifiers = st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True).filter(lambda s: not keyword.iskeyword(s))
sentences = st.from_regex(r"[A-Z][a-z]{1,8}( [a-z]{1,8}){0,5}\.", fullmatch=True)


def render(style: str, summary: str, params: dict[str, str]) -> str:
    if style == "google":
        return summary + "\n\nArgs:\n" + "".join(f"    {k}: {v}\n" for k, v in params.items())
    if style == "numpy":
        return summary + "\n\nParameters\n----------\n" + "".join(f"{k} : int\n    {v}\n" for k, v in params.items())
    if style == "rest":
        return summary + "\n\n" + "".join(f":param {k}: {v}\n" for k, v in params.items())
    return summary + "\n\n" + "".join(f"@param {k}: {v}\n" for k, v in params.items())


@given(st.sampled_from(["google", "numpy", "rest", "epydoc"]), sentences,
       st.dictionaries(identifiers, sentences, min_size=1, max_size=5))
def test_random_docstrings_parse_back(style, summary, params):
    parsed = parse_docstring(render(style, summary, params))
    assert parsed.description == summary
    assert parsed.params == params
