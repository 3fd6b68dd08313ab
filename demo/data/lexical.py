"""Content-word overlap between texts: the lexical control of a dataset.

InstructIR revises each target so that it does not reuse the instruction's distinctive
words. We measure that as the share of an instruction's content words (lower-cased word
tokens of 3+ letters, stop words removed) that also occur in a passage, for its own target
versus its siblings' targets. If the own-target figure is clearly higher, word overlap
alone could solve the task.
"""
from __future__ import annotations

import re

WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")

STOP_WORDS = frozenset("""
a about above after again against all also am an and any are aren't as at be because been
before being below between both but by can can't cannot could couldn't did didn't do does
doesn't doing don't down during each either else even ever every few for from further get
gets getting got had hadn't has hasn't have haven't having he he'd he'll he's her here
here's hers herself him himself his how how's however i i'd i'll i'm i've if in into is
isn't it it's its itself just let's like made make makes many may me might mine more most
much must mustn't my myself need needs neither no nor not now of off often on once one
only or other ought our ours ourselves out over own per please quite rather really same
shan't she she'd she'll she's should shouldn't since so some such than that that's the
their theirs them themselves then there there's these they they'd they'll they're they've
this those though through thus to too under until up upon us use used using very via want
wants was wasn't we we'd we'll we're we've well were weren't what what's when when's where
where's whether which while who who's whom whose why why's will with within without won't
would wouldn't yet you you'd you'll you're you've your yours yourself yourselves
""".split())


def content_words(text: str) -> set[str]:
    """Lower-cased word tokens of three or more characters that are not stop words."""
    return {w for w in WORD.findall(text.lower()) if len(w) >= 3 and w not in STOP_WORDS}


def overlap(instruction: str, passage: str) -> float:
    """Share of the instruction's content words that occur in the passage (0..1)."""
    words = content_words(instruction)
    if not words:
        return 0.0
    return len(words & content_words(passage)) / len(words)
