"""The one exception tree: every error class lives in supportbox.errors."""

from __future__ import annotations

import inspect

from supportbox import errors
from supportbox.api.reporting import recordings
from supportbox.backup import stream
from supportbox.clients import link
from supportbox.live import protocol


def test_every_error_class_is_in_the_tree_and_its_drawing() -> None:
    classes = [
        c
        for c in vars(errors).values()
        if inspect.isclass(c) and issubclass(c, Exception)
    ]
    assert errors.__doc__ is not None
    for kind in classes:
        assert issubclass(kind, errors.SupportboxError)
        assert f" {kind.__name__}" in errors.__doc__, kind.__name__


def test_no_module_declares_an_exception_outside_the_tree() -> None:
    for module in (protocol, recordings, link, stream):
        for name, value in vars(module).items():
            if inspect.isclass(value) and issubclass(value, BaseException):
                assert not value.__module__.startswith("supportbox.") or (
                    value.__module__ == "supportbox.errors"
                ), name
    assert issubclass(errors.ProtocolError, errors.InvalidInput)
