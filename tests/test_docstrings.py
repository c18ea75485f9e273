"""Docstrings in the four styles: description, parameter texts, returns."""

from __future__ import annotations

import keyword
from typing import Annotated

from hypothesis import given, strategies as st

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


@st.composite
def rich_docstrings(draw):
    style = draw(st.sampled_from(["google", "numpy"]))
    summary = draw(st.lists(sentences, min_size=1, max_size=2).map("\n".join))
    long = draw(st.one_of(st.just(""), st.lists(sentences, min_size=1, max_size=3).map("\n".join)))
    params = draw(st.dictionaries(identifiers, st.lists(sentences, min_size=1, max_size=2), max_size=4))
    returns = draw(st.one_of(st.just(""), sentences))
    text = summary + (f"\n\n{long}" if long else "")
    if style == "google":
        if params:
            text += "\n\nArgs:\n" + "".join(f"    {k} (int): " + "\n        ".join(v) + "\n" for k, v in params.items())
        if returns:
            text += f"\nReturns:\n    {returns}\n"
    else:
        if params:
            text += "\n\nParameters\n----------\n" + "".join(
                f"{k} : int\n" + "".join(f"    {line}\n" for line in v) for k, v in params.items())
        if returns:
            text += f"\nReturns\n-------\nint\n    {returns}\n"
    return style, text


@given(rich_docstrings())
def test_fast_readers_agree_with_docstring_parser(case):
    import docstring_parser

    from toolkit.schema._docstrings import _google, _numpy, parse_with_docstring_parser

    style, text = case
    fast = (_google if style == "google" else _numpy)(text)
    slow = parse_with_docstring_parser(text, docstring_parser.DocstringStyle.GOOGLE if style == "google"
                                       else docstring_parser.DocstringStyle.NUMPYDOC)
    assert fast == slow
