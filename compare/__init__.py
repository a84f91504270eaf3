"""storydiff: compare how different outlets report the same story.

Usage::

    from compare import load_story, compare_story
    comparison = compare_story(load_story("corpora/kupyansk"))
    print(len(comparison.events), len(comparison.differences))

Pipeline: corpus -> segment -> cues -> embed -> align -> differ -> report (see docs/architecture.md).
"""

import logging

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())


def __getattr__(name: str):  # lazy re-exports keep `storydiff --help` fast
    if name == "load_story":
        from compare.corpus import load_story

        return load_story
    if name == "compare_story":
        from compare.pipeline import compare_story

        return compare_story
    if name == "Settings":
        from compare.config import Settings

        return Settings
    raise AttributeError(name)
