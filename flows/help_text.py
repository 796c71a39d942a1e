"""Help texts for a terminal: the sub-commands' descriptions are their module docstrings, written in
reStructuredText for the docs (``kasse demo``, :mod:`jobs.dunning`, **bold**); ``kasse … --help`` shows
them without that markup.

>>> plain("``kasse demo``: see :mod:`jobs.dunning` and :func:`~outputs.fmt.eur`, **Stateless**, `x`")
'kasse demo: see jobs.dunning and outputs.fmt.eur, Stateless, x'
"""

from __future__ import annotations

import argparse
import re

_ROLE = re.compile(r":[a-z]+:`~?([^`]+)`")
_LITERAL = re.compile(r"``([^`]+)``")
_BOLD = re.compile(r"\*\*([^*]+)\*\*")
_TICK = re.compile(r"`([^`]+)`")


def plain(text: str | None) -> str | None:
    """``text`` without reST roles, literals, bold and backticks (``None`` stays ``None``)."""
    if not text:
        return text
    for pattern in (_ROLE, _LITERAL, _BOLD, _TICK):
        text = pattern.sub(r"\1", text)
    return text


def clean_parser(parser: argparse.ArgumentParser) -> None:
    """Every description, epilog and argument help of ``parser`` and its sub-commands, as :func:`plain` text."""
    parser.description = plain(parser.description)
    parser.epilog = plain(parser.epilog)
    for action in parser._actions:                       # argparse keeps them there; there is no public list
        if action.help and action.help is not argparse.SUPPRESS:
            action.help = plain(action.help)
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                choice.help = plain(choice.help)
            for sub in {id(p): p for p in action.choices.values()}.values():
                clean_parser(sub)
