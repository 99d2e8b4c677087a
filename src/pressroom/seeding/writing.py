"""Generated demo prose: names, titles, descriptions and bodies from word lists."""

from __future__ import annotations

import random


def _words(text: str) -> list[str]:
    return text.split()


_FIRST = _words(
    "ada alan anna ben carla chen dana diego elena emma farah felix grace hana ivan jade jonas "
    "kai lena liam lucia maya mei milan nadia noah omar priya rafael rosa sam sara tariq theo "
    "uma vera wei yara yusuf zoe"
)
_LAST = _words(
    "adams baker chen costa dubois evans fischer garcia haddad ito jensen kim kowalski larsen "
    "lopez mensah moreau nakamura novak okafor oliveira patel petrov quinn rossi santos schmidt "
    "silva tanaka usman varga walsh weber xu yilmaz zhang"
)
_ADJECTIVES = _words(
    "quiet practical hidden honest simple fast slow modern forgotten surprising boring elegant "
    "fragile resilient tiny careful messy gentle stubborn humble brave clever lazy ambitious "
    "reliable curious hungry weird cheap expensive"
)
_NOUNS = _words(
    "cache database migration deadline team index query release bug service queue deploy "
    "review interface test garden kitchen library habit budget weekend project startup editor "
    "newsletter podcast recipe bicycle camera notebook city map server backlog meeting roadmap "
    "prototype"
)
_VERBS = [
    pair.split(":")
    for pair in _words(
        "build:building ship:shipping break:breaking test:testing measure:measuring "
        "rewrite:rewriting debug:debugging plan:planning teach:teaching learn:learning "
        "fix:fixing scale:scaling design:designing cook:cooking write:writing grow:growing "
        "choose:choosing read:reading refactor:refactoring automate:automating "
        "document:documenting simplify:simplifying review:reviewing profile:profiling"
    )
]
_ADVERBS = _words("quietly quickly slowly carefully rarely usually honestly surprisingly badly")
_UNITS = _words("days weeks months hours")
_TAGS = _words(
    "programming webdev python javascript databases postgres sqlite devops testing design "
    "career productivity rust go security performance architecture cooking travel photography "
    "music books gardening startups writing remote-work open-source machine-learning css api "
    "cloud linux history science health finance gaming parenting fitness coffee cycling"
)
_TITLES = (
    "how we {verb} our {noun} in {n} {unit}",
    "the {adj} guide to {gerund} {plural}",
    "{n} lessons from {gerund} {plural}",
    "what nobody tells you about {gerund} {plural}",
    "a {adj} {noun} for {adj2} {plural}",
    "stop {gerund} {plural}, {verb} {adj} {plural2} instead",
    "{adj} {plural} and the art of {gerund}",
    "notes on {gerund} a {adj} {noun}",
    "why your {noun} needs {adj} {plural}",
    "{gerund} {plural} without losing your {noun}",
    "I tried {gerund} {plural} for {n} {unit}",
    "in defence of {adj} {plural}",
)
_SENTENCES = (
    "{gerund} {plural} is {adv} harder than it looks.",
    "most {plural} {verb} {plural2} {adv}.",
    "we spent {n} {unit} {gerund} the {noun} before anyone asked why.",
    "a {adj} {noun} beats a {adj2} {noun2} every time.",
    "if you {verb} the {noun}, {verb2} the {noun2} too.",
    "nobody wants to {verb} a {adj} {noun} on a Friday.",
    "the trick is to {verb} {adj} {plural} early.",
    "our {noun} needed {adj} {plural}, not more {plural2}.",
    "it took {n} {unit} to {verb} the first {noun}.",
    "start by {gerund} one {noun}, then {verb} the rest.",
    "ask anyone who tried to {verb} {plural} at scale.",
    "the {adj} part was {gerund} the {noun}.",
    "keep your {plural} {adj} and your {plural2} {adj2}.",
    "every {noun} starts {adj} and ends up {adj2}.",
    "there is no {adj} way to {verb} a {noun}.",
)
_OPENERS = (
    "Great post!",
    "Thanks for writing this.",
    "I disagree a little.",
    "This matches my experience.",
    "Bookmarked.",
    "Interesting take.",
    "Could you say more about this?",
)
_SENTENCE_POOL = 3000


def _plural(noun: str) -> str:
    if noun.endswith("y") and noun[-2] not in "aeiou":
        return noun[:-1] + "ies"
    if noun.endswith(("s", "x", "ch", "sh")):
        return noun + "es"
    return noun + "s"


def _capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


class Writer:
    """Titles, bodies, comments and bios from word lists, driven by one seeded generator."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.sentences = [
            _capitalized(self._fill(rng.choice(_SENTENCES))) for _ in range(_SENTENCE_POOL)
        ]

    def _fill(self, template: str) -> str:
        rng = self.rng
        (verb, gerund), (verb2, _) = rng.choice(_VERBS), rng.choice(_VERBS)
        noun, noun2 = rng.choice(_NOUNS), rng.choice(_NOUNS)
        return template.format(
            verb=verb,
            verb2=verb2,
            gerund=gerund,
            noun=noun,
            noun2=noun2,
            plural=_plural(noun),
            plural2=_plural(noun2),
            adj=rng.choice(_ADJECTIVES),
            adj2=rng.choice(_ADJECTIVES),
            adv=rng.choice(_ADVERBS),
            unit=rng.choice(_UNITS),
            n=rng.randint(2, 12),
        )

    def person(self) -> str:
        return f"{self.rng.choice(_FIRST)}_{self.rng.choice(_LAST)}"

    def tag_pool(self) -> list[str]:
        return list(_TAGS)

    def title(self) -> str:
        return _capitalized(self._fill(self.rng.choice(_TITLES)))

    def description(self) -> str:
        return self.rng.choice(self.sentences)

    def body(self) -> str:
        """Markdown: a few paragraphs, sometimes a heading and a list."""
        rng = self.rng
        parts = []
        for index in range(rng.randint(3, 6)):
            if index and rng.random() < 0.25:
                parts.append("## " + self.title())
            if index and rng.random() < 0.2:
                parts.append("\n".join("- " + line for line in rng.sample(self.sentences, 3)))
            parts.append(" ".join(rng.sample(self.sentences, rng.randint(2, 5))))
        return "\n\n".join(parts)

    def comment(self) -> str:
        opener = [self.rng.choice(_OPENERS)] if self.rng.random() < 0.5 else []
        return " ".join(opener + self.rng.sample(self.sentences, self.rng.randint(1, 2)))

    def bio(self) -> str:
        return _capitalized(self._fill("{gerund} {plural} at a {adj} {noun}.")) + (
            " " + self.rng.choice(self.sentences)
        )
