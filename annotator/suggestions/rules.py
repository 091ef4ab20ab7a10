"""The built-in suggesters: pure functions from an article's text to proposals.

Nothing here reads the database or anyone's annotations; `services` turns proposals into rows.
Offsets are code points of the (NFC, `\n`) article text, `[start, end)`, as spans' are.

- `quotes`: text between quotation marks of every script on one line: “ ” (English, Arabic
  news), ‘ ’, « » (French, Russian, Arabic), „ “ and „ ” (German, Polish, nested Russian),
  ‹ ›, and straight " and '. The quote is the text inside the marks; only the outermost of
  nested quotes is proposed, and only one of three words or more (shorter ones are mostly
  names and scare quotes: the “Tas” agency), of two with a cue in its sentence, of one as the word
  a speaker calls something; never a name in marks after its noun (the book “Russia and the World”).
- `speakers`: the named person or body a quote is attributed to, by cues in English ("X said",
  "said X", "according to X", "The Kremlin said"), Arabic ("قال X", "وقال X", "أكد X", "بحسب X",
  "فإن X وصف") and Russian ("заявил X", "X заявил", "по словам X"); with the quotes it
  attributes: the one right beside its cue, and any other that its sentence names it as saying
  (not one after "adding"). Someone unnamed ("a spokesperson", "مصدر دبلوماسي") is not proposed.
- `topics`: topics whose keywords occur in the text.
"""

import bisect
import itertools
from dataclasses import dataclass, field

import regex

# Opening mark -> the closing marks that end it.
QUOTE_MARKS = {
    "“": "”„″",  # ″: some Arabic sites close with a double prime
    "‘": "’",
    "«": "»",
    "„": "“”",
    "‹": "›",
    "”": "”",  # Swedish, Finnish; and Arabic sites that open with a closing mark
    "»": "«",  # Danish, German guillemets pointing inward
    '"': '"',
    "'": "'",
}
# A quote of fewer words is not proposed, unless an attribution cue stands in its sentence; a
# quote of one word never is (a name: the “Tas” agency).
MIN_QUOTE_WORDS = 3
MIN_CUED_QUOTE_WORDS = 2
_WORD = regex.compile(r"[\p{L}\p{N}][\p{L}\p{M}\p{N}'’\-]*")


@dataclass(frozen=True)
class Proposal:
    """A span the rules propose: which kind of label ("quote" or "speaker"), where, how sure."""

    kind: str
    start: int
    end: int
    text: str
    score: float


@dataclass(frozen=True)
class Speaker(Proposal):
    # The quotes this mention is named as saying: beside its cue, or in the sentence it names it in.
    quotes: tuple[Proposal, ...] = field(default=(), compare=False)


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _apostrophe(text: str, at: int) -> bool:
    """A ' or ’ between two letters (don’t, Lavrov’s, O'Neill) is an apostrophe, not a quote mark."""
    return text[at] in "'’" and 0 < at < len(text) - 1 and text[at - 1].isalpha() and text[at + 1].isalpha()


def _quotes_on_line(text: str, line_start: int, line_end: int) -> list[tuple[int, int]]:
    """The `(open, close)` mark offsets of every quotation on one line, outermost and nested."""
    found = []
    at = line_start
    while at < line_end:
        mark = text[at]
        closers = QUOTE_MARKS.get(mark)
        if closers is None or _apostrophe(text, at) or (mark in "'\"" and at > line_start and text[at - 1].isalnum()):
            at += 1
            continue
        close = at + 1
        while close < line_end:
            char = text[close]
            if char in closers and not _apostrophe(text, close) and close > at + 1:
                break
            close += 1
        if close >= line_end:
            at += 1
            continue
        found.append((at, close))
        # Nested quotes are looked for inside too, but the outer one is what is proposed.
        at = close + 1
    return found


def quotes(text: str) -> list[Proposal]:
    result = []
    # An unnamed speaker's cue makes a two-word quote a quote as a named one's does ("A senior US
    # official said he was “cautiously optimistic”"), though it proposes no Source.
    cues = _Cues(_cues(text) + [(m.start(), m.end(), m.start(), m.end(), 0.0) for m in _UNNAMED_CUE.finditer(text)])
    sentence_ends = [(m.start(), m.end()) for m in _SENTENCE_END.finditer(text)]
    line_start = 0
    for line in text.split("\n"):
        line_end = line_start + len(line)
        for open_at, close_at in _quotes_on_line(text, line_start, line_end):
            start, end = _strip(text, open_at + 1, close_at)
            inside = text[start:end]
            # Punctuation that ends the quoted sentence inside the marks stays in the quote; a
            # comma the English style puts before the closing mark does not belong to it.
            while end > start and text[end - 1] in ",،":
                end -= 1
            inside = text[start:end]
            found = _WORD.findall(inside)
            words = len(found)
            if end <= start or (not inside[0].islower() and _NAMED_WORK.search(text, line_start, open_at)):
                pass  # a book's, a plan's or an agency's name: Lavrov's book “Russia and the World”
            elif found and all(word in _ARABIC_LETTER_NAMES for word in found):
                pass  # a channel's or an agency's initials, in any sentence: “سي أن أن” (CNN)
            elif words >= MIN_QUOTE_WORDS:
                # Longer quotes are more surely quotations than titles or scare quotes.
                score = min(1.0, 0.5 + 0.05 * words)
                result.append(Proposal("quote", start, end, inside, round(score, 3)))
            elif words >= MIN_CUED_QUOTE_WORDS and _cued(text, open_at, close_at, cues, sentence_ends):
                result.append(Proposal("quote", start, end, inside, 0.5))
            elif words == 1 and inside[0].islower() and _CALLED.search(text, line_start, open_at):
                result.append(Proposal("quote", start, end, inside, 0.5))
        line_start = line_end + 1
    return result


# The noun right before the marks says the quoted words are a name, not something said (unless
# they start in lower case: "talks on Iran's nuclear programme “but not at any price”").
_NAMED_WORK = regex.compile(
    r"(?:\b(?:book|novel|film|documentary|article|report|plan|programme|program|operation|initiative|newspaper|"
    r"magazine|agency|channel|network|station|titled|entitled)|(?<!\p{Arabic})(?:كتاب|رواية|فيلم|صحيفة|مجلة|وكالة|قناة|شبكة|"
    r"إذاعة|خطة|عملية|مبادرة|برنامج|بعنوان|طراز))[ \t]*$"
)
# The names of Latin letters as Arabic writes them: quoted words that are all such names spell
# initials, a name (“سي أن أن”: CNN, “بي بي سي”: BBC, “إف بي آي”: FBI), not something said.
_ARABIC_LETTER_NAMES = frozenset(
    "إيه أيه إي بي سي دي إف جي إتش آي أي جاي كي إل إم إن أن أو كيو آر إس تي يو في دبليو إكس واي زد".split()
)


# A one-word quote is proposed only as the word a speaker calls something: “called the accusations
# “groundless””, “described the talks as “useful””; elsewhere one capitalised or quoted word is
# mostly a name (the “Tas” agency).
_CALLED = regex.compile(
    r"\b(?:call(?:ed|s|ing)|brand(?:ed|s|ing)|describ(?:ed|es|ing)|dismiss(?:ed|es|ing)|labell?(?:ed|ing))"
    r"(?:[ \t]+(?!and\b|but\b)[\p{L}'’\-]+){0,4}?(?:[ \t]+as)?[ \t]*$"
)


_SENTENCE_END = regex.compile(r"[.!?؟]\s|\n")


def _cued(text: str, open_at: int, close_at: int, cues: "_Cues", sentence_ends: list[tuple[int, int]]) -> bool:
    """An attribution cue in the quote's sentence, outside the quote: "Lavrov described the
    proposals as a “cynical trap”" is a partial quote; a two-word title in a sentence without one is not."""
    at = bisect.bisect_right(sentence_ends, (open_at, open_at)) - 1
    while at >= 0 and sentence_ends[at][1] > open_at:
        at -= 1
    sentence_start = sentence_ends[at][1] if at >= 0 else 0
    at = bisect.bisect_left(sentence_ends, (close_at + 1, 0))
    sentence_end = sentence_ends[at][0] + 1 if at < len(sentence_ends) else len(text)
    return any(cue[1] <= sentence_end and not (open_at <= cue[2] < close_at)
               for cue in cues.starting(sentence_start, sentence_end))


# --- speakers -----------------------------------------------------------------------------

_EN_VERBS = (
    r"said|says|told|added|stated|warned|noted|insisted|declared|"
    r"stressed|explained|argued|wrote|replied|claimed|announced|emphasi[sz]ed|underscored|remarked|continued|"
    r"called|described|accused|urged|denied|rejected|condemned|dismissed|welcomed|responded|vowed|pledged|"
    r"acknowledged|admitted|confirmed|predicted|asserted"
)
# A name: capitalised words, with the particles names carry between them.
_EN_WORD = r"(?:(?:al|el|ad|as|ash|bin)-)?\p{Lu}(?:\.|[\p{L}\p{M}'’\-]*)"  # a word (al-Sharaa), or an initial with its dot
# Lower-case words of a title between a name's capitalised words ("Kremlin spokesman Dmitry
# Peskov", "Secretary of State Antony Blinken"): the title is part of the phrase a Source labels.
_EN_TITLE = (
    r"(?:spokes(?:man|woman|person)|minister|president|ambassador|envoy|chief|secretary|adviser|advisor|"
    r"official|commander|leader|prime|foreign|policy|deputy|defen[cs]e|general|head|senior|former|interim|top)"
)
_EN_JOIN = rf"(?:(?:al|bin|ibn|de|del|van|von|der|la|le|da|di|of|for)[ \t]+|(?:{_EN_TITLE}[ \t]+){{1,3}})"
# Never from the middle of a word: "Sharaa" alone in "al-Sharaa".
_EN_NAME = rf"(?<![\p{{L}}\p{{M}}'’\-]){_EN_WORD}(?:[ \t]+{_EN_JOIN}?{_EN_WORD}){{0,6}}"
# A body or a group that speaks, named by a phrase that ends in a lower-case noun ("the Israeli
# prime minister's office", "The Palestinian Authority's foreign ministry", "state media",
# "European diplomats"). Someone unnamed ("A spokesperson", "a senior US official") is not labelled:
# their quote's speaker is typed as free text.
_EN_BODY_NOUN = (
    r"(?:office|ministry|media|diplomats?|officials?|spokes(?:man|woman|person)|sources?|army|military|"
    r"government|authorities|agency|police)"
)
_EN_BODY_WORD = rf"(?:{_EN_WORD}(?:['’]s)?|{_EN_TITLE}(?:['’]s)?|state|senior|western|european|israeli|russian|iranian|us)"
_EN_BODY = rf"(?![Aa]n?[ \t])(?:[Tt]he[ \t]+)?(?:{_EN_BODY_WORD}[ \t]+){{0,5}}{_EN_BODY_NOUN}"
# Words that start a sentence or stand before a name without being part of it.
_NOT_NAME = {
    "The", "A", "An", "On", "In", "At", "But", "And", "Yet", "So", "Then", "When", "After", "Before", "As",
    "Also", "However", "Meanwhile", "Earlier", "Later", "Today", "Yesterday", "Monday", "Tuesday", "Wednesday",
    "Thursday", "Friday", "Saturday", "Sunday", "This", "That", "It", "He", "She", "They", "We", "I", "You",
    "Speaking", "Asked", "According", "Sources", "Officials", "Diplomats",
}
# What may stand between a name and its verb: "Lavrov on Thursday accused", "Kallas in a statement said".
_EN_WHEN = (
    r"(?:on\s+(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)|yesterday|today|earlier|later|also|"
    r"again|in\s+a\s+statement)"
)
_EN_BEFORE = regex.compile(rf"(?P<name>{_EN_NAME})(?:,[^,\n]{{1,80}},)?(?:\s+{_EN_WHEN})?\s+(?:{_EN_VERBS})\b")
# "The United Nations envoy, Geir Pedersen, warned": the name in the apposition is the speaker.
_EN_APPOSITION = regex.compile(rf",[ \t]+(?P<name>{_EN_NAME}),(?:[ \t]+{_EN_WHEN})?[ \t]+(?:{_EN_VERBS})\b")
_EN_BODY_BEFORE = regex.compile(
    rf"(?<![\p{{L}}'’])(?<!\b[Aa]n?[ \t]+(?:{_EN_BODY_WORD}[ \t]+){{0,4}})(?P<name>{_EN_BODY})(?:,[^,\n]{{1,80}},)?(?:\s+{_EN_WHEN})?\s+(?:{_EN_VERBS})\b"
)
# "said X" only right after a quote's end or a comma: "Lavrov said Russia would" is no cue for Russia.
# After these verbs comes the speaker ("…,” said Lavrov); after the others, their object ("accused Western states").
_EN_VERBS_SPEAKER_AFTER = _EN_VERBS.split("|called|")[0]
_EN_AFTER = regex.compile(
    rf"(?:(?<=[”\"’»›]\s{{0,3}})|(?<=,\s{{0,3}}))(?:{_EN_VERBS_SPEAKER_AFTER})\s+(?P<name>{_EN_NAME})"
)
_EN_ACCORDING = regex.compile(rf"\b(?:[Aa]ccording\s+to|[Qq]uoting)\s+(?P<name>{_EN_BODY}|(?:the[ \t]+)?{_EN_NAME})")

_AR_VERBS = (
    r"(?:و|ف)?(?:قال|قالت|أكد|أكدت|اكد|أضاف|أضافت|اضاف|صرح|صرحت|أوضح|أوضحت|أعلن|أعلنت|تابع|تابعت|شدد|شددت|بحسب|"
    r"وفقا\s+ل|وفقاً\s+ل|حسب|اعتبر|اعتبرت|أشار|أشارت|ذكر|ذكرت|رأى|رأت|نفى|نفت|حذر|حذرت|دعا|دعت|أفاد|أفادت|"
    r"كشف|كشفت|وصف|وصفت|"
    # "نقلت وكالة تاس عن X", "نقلت وكالة «إرنا» عن X": the speaker is who the agency quotes.
    r"نقل(?:ت)?\s+(?:[^،.\n«»“”]|«[^»\n]{1,20}»){1,40}?\s+عن)"
)
# Words after which an Arabic speaker's name has ended ("قال لافروف إن ...").
_AR_STOP = {
    "إن", "أن", "ان", "إنه", "أنه", "انه", "إنها", "أنها", "انها", "في", "من", "على", "خلال", "عن", "مع", "اليوم",
    "أمس", "يوم", "بعد", "قبل", "إنّ", "أنّ", "لـ", "ل", "الى", "إلى", "لوكالة", "لصحيفة", "لقناة", "للصحفيين",
    "بأن", "بأنه", "بأنها", "قوله", "قولها", "أمام", "عبر", "عقب", "لرويترز", "لفرانس", "لشبكة", "لموقع", "لإذاعة",
    "للتلفزيون", "لتلفزيون", "للصحافيين", "لوسائل", "ذلك", "هذا", "هذه", "الأحد", "الاثنين", "الثلاثاء",
    "الأربعاء", "الخميس", "الجمعة", "السبت", "مضيفا", "مضيفاً", "مضيفة",
}
# A plural noun with its owner's pronoun ("تصريحاته", his statements) is the verb's object, not a name.
_AR_OBJECT = regex.compile(r"\p{Arabic}+ات(?:ه|ها|هم)")
# Someone unnamed ("مصدر دبلوماسي", a diplomatic source) is not labelled: an indefinite role noun.
_AR_UNNAMED = {
    "مصدر", "مصادر", "مسؤول", "مسؤولون", "مسؤولين", "المسؤولون", "المسؤولين", "دبلوماسي", "دبلوماسيون", "متحدث",
    "شاهد", "شهود",
}
# A Source may run to eight words when its title does ("المندوب الروسي لدى الأمم المتحدة فاسيلي نيبينزيا").
_AR_NAME_WORDS = 8
# "وبحسب …، فإن X وصف …": the subject before the verb, after فإن.
_AR_SUBJECT = regex.compile(r"(?<![\p{Arabic}])فإن\s+")
_AR_SUBJECT_VERBS = {"قال", "قالت", "أكد", "أكدت", "وصف", "وصفت", "اعتبر", "اعتبرت", "أعلن", "أعلنت", "شدد", "شددت"}
_UNNAMED_CUE = regex.compile(
    rf"\b[Aa]n?[ \t]+(?:{_EN_BODY_WORD}[ \t]+){{0,4}}{_EN_BODY_NOUN}(?:,[^,\n]{{1,80}},)?\s+(?:{_EN_VERBS})\b"
    rf"|(?<![\p{{Arabic}}])(?:{_AR_VERBS})\s+(?:{'|'.join(sorted(_AR_UNNAMED))})(?![\p{{Arabic}}])"
)
_AR_WORD = regex.compile(r"[\p{Arabic}\p{M}ـ]+")
_AR_CUE = regex.compile(rf"(?<![\p{{Arabic}}])(?:{_AR_VERBS})(?![\p{{Arabic}}])")

_RU_VERBS = r"заявил|заявила|заявили|сказал|сказала|отметил|отметила|подчеркнул|подчеркнула|добавил|добавила|сообщил|сообщила|пояснил|пояснила|считает"
_RU_NAME = r"\p{Lu}[\p{L}\-]*(?:\s+\p{Lu}[\p{L}\-]*){0,3}"
_RU_AFTER = regex.compile(rf"\b(?:{_RU_VERBS})\s+(?P<lead>(?:[\p{{Ll}}]+\s+){{0,4}})(?P<name>{_RU_NAME})")
_RU_BEFORE = regex.compile(rf"(?P<name>{_RU_NAME})\s+(?:{_RU_VERBS})\b")
_RU_ACCORDING = regex.compile(rf"\b[Пп]о\s+словам\s+(?P<name>{_RU_NAME})")

# What may stand between a quote's closing mark and its cue, or a cue and the opening mark.
_GAP = regex.compile(r"[\s,.،:;—–\-]*")
_GAP_BEFORE = regex.compile(r"[\s,:،—–\-]*(?:(?:(?:على|إلى|الى)\s+أن|بأن|إن|أن|ان|that)\s*:?\s*)?")


def _english_name(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The name in `text[start:end]` with leading sentence words ("On Monday Lavrov") left out, and
    with the "the" right before it kept: a body is named with it ("The Kremlin", "the Russian
    Defence Ministry"), and so is a title before a possessive ("the European Union's … chief Kaja Kallas")."""
    words = list(regex.finditer(r"\S+", text[start:end]))
    while words and words[0].group().rstrip(",.") in _NOT_NAME:
        words.pop(0)
    if not words:
        return None
    name_start, name_end = start + words[0].start(), start + words[-1].end()
    while name_end > name_start and text[name_end - 1] in ".,’'":
        name_end -= 1
    article = _THE_BEFORE.search(text, max(0, name_start - 4), name_start)
    if article and name_end > name_start:
        name_start = article.start()
    return (name_start, name_end) if name_end > name_start else None


_THE_BEFORE = regex.compile(r"(?<![\p{L}\p{M}])[Tt]he[ \t]$")


def _arabic_name(text: str, at: int) -> tuple[int, int] | None:
    """Up to eight Arabic words from `at`, ended by a stop word, the verb's object or punctuation;
    an agency's name in guillemets right after its noun is part of it ("وكالة الأنباء الأرمنية «أرمنبرس»").
    None when the first word says the speaker is unnamed."""
    words = []
    position = at
    for _ in range(_AR_NAME_WORDS):
        gap = regex.match(r"[ \t]+", text, pos=position)
        if words and not gap:
            break
        position = gap.end() if gap else position
        agency = _AR_AGENCY_NAME.match(text, pos=position)
        if words and agency and text[words[0][0]:words[0][1]] in _AR_NAMED_BY_GUILLEMETS:
            words.append(agency.span())
            break
        word = _AR_WORD.match(text, pos=position)
        if word is None or word.group() in _AR_STOP or _AR_OBJECT.fullmatch(word.group()):
            break
        words.append(word.span())
        position = word.end()
    if not words or text[words[0][0]:words[0][1]] in _AR_UNNAMED:
        return None
    return (words[0][0], words[-1][1])


_AR_AGENCY_NAME = regex.compile(r"«[^«»\n]{1,30}»")
_AR_NAMED_BY_GUILLEMETS = {"وكالة", "صحيفة", "قناة", "موقع"}


def _arabic_subject(text: str, at: int) -> tuple[int, int, int] | None:
    """After "فإن": the words before a speech verb, and where the verb ends: (name start, name end, verb end)."""
    words = []
    position = at
    for _ in range(_AR_NAME_WORDS + 1):
        word = _AR_WORD.match(text, pos=position)
        if word is None:
            return None
        if word.group() in _AR_SUBJECT_VERBS:
            if not words or text[words[0][0]:words[0][1]] in _AR_UNNAMED:
                return None
            return words[0][0], words[-1][1], word.end()
        words.append(word.span())
        gap = regex.match(r"[ \t]+", text, pos=word.end())
        if gap is None:
            return None
        position = gap.end()
    return None


def _cues(text: str) -> list[tuple[int, int, int, int, float]]:
    """Every attribution cue: (cue start, cue end, name start, name end, score)."""
    found = []
    appositions = []
    for match in _EN_APPOSITION.finditer(text):
        name = _english_name(text, *match.span("name"))
        if name:
            appositions.append((match.start("name"), match.end(), *name, 0.75))
    bodies = []
    for match in _EN_BODY_BEFORE.finditer(text):
        start, end = _strip(text, *match.span("name"))
        bodies.append((start, match.end(), start, end, 0.7))
    # The names the apposition and body cues found, by start, with the furthest end so far: a name
    # overlapping `[start, end]` is one starting before `end` whose end reaches `start`.
    taken = sorted((c[2], c[3]) for c in appositions + bodies)
    taken_starts = [start for start, _ in taken]
    taken_reach = list(itertools.accumulate((end for _, end in taken), max))
    found += appositions + bodies
    for pattern, score in ((_EN_BEFORE, 0.7), (_EN_AFTER, 0.8), (_EN_ACCORDING, 0.75)):
        for match in pattern.finditer(text):
            if pattern is _EN_ACCORDING and regex.fullmatch(_EN_BODY, match.group("name")):
                found.append((match.start(), match.end(), *match.span("name"), score))
                continue
            name = _english_name(text, *match.span("name"))
            # A name the apposition or body cue found with the same verb is that cue's, not a second one.
            before_end = bisect.bisect_left(taken_starts, match.end())
            if name and not (pattern is _EN_BEFORE and before_end and taken_reach[before_end - 1] >= match.start()):
                found.append((match.start(), match.end(), *name, score))
    verbs_with_subject = set()
    for match in _AR_SUBJECT.finditer(text):
        subject = _arabic_subject(text, match.end())
        if subject:
            found.append((match.start(), subject[2], subject[0], subject[1], 0.7))
            verbs_with_subject.add(subject[2])
    for match in _AR_CUE.finditer(text):
        if match.end() in verbs_with_subject:
            continue  # "فإن X وصف الاتفاق": what follows this verb is its object, X is the speaker
        name = _arabic_name(text, match.end() + (1 if match.end() < len(text) and text[match.end()] == " " else 0))
        if name:
            found.append((match.start(), name[1], *name, 0.7))
    for pattern, score in ((_RU_AFTER, 0.75), (_RU_BEFORE, 0.7), (_RU_ACCORDING, 0.75)):
        for match in pattern.finditer(text):
            found.append((match.start(), match.end(), *match.span("name"), score))
    return found


# Which cue beside a quote names its speaker when two do: "“…,” Lavrov said" before "Lavrov said: “…”",
# and either before a cue after a full stop ("«…». وأكد لافروف": a new sentence).
_BESIDE_FIRST = {"after": 0, "before": 1, "after, next sentence": 2}


def _beside(text: str, quote: Proposal, cue: tuple) -> str | None:
    """"after" when the cue stands right after the quote's closing mark ("after, next sentence"
    when a full stop comes between), "before" when right before its opening mark, else None."""
    cue_start, cue_end = cue[0], cue[1]
    after_close = quote.end
    while after_close < len(text) and text[after_close] in "”’»›\"'″“,":
        after_close += 1
    if cue_start >= quote.end and _GAP.fullmatch(text, after_close, cue_start):
        if "\n" in text[quote.end:cue_start]:
            return None
        return "after, next sentence" if "." in text[after_close:cue_start] else "after"
    before_open = quote.start
    while before_open > 0 and text[before_open - 1] in "“‘«„‹\"'”":
        before_open -= 1
    if cue_end <= quote.start and _GAP_BEFORE.fullmatch(text, cue_end, before_open):
        return "before" if "\n" not in text[cue_end:quote.start] else None
    return None


# A sentence ends at . ! ? ؟ (and the closing marks after it) and a space, or a line break; not
# after a single capital (U.S., an initial).
_SENTENCE_BREAK = regex.compile(r"(?<!(?<![\p{L}])\p{Lu})[.!?؟][”’»\"'″]*[ \t]+|\n")
# After "adding" the quote is the speaker's afterthought, which analysts leave without a link (the
# held-out sets' convention: "…, adding: “…”", "مضيفاً أن «…»").
_CONTINUATION = regex.compile(r"\badd(?:ing|ed)\b|(?<![\p{Arabic}])مضيف(?:اً|ا|ة)(?![\p{Arabic}])")


def _sentence_cue(text: str, quote: Proposal, cues: "_Cues", breaks: list[int]) -> tuple | None:
    """The cue that names who says `quote` in its sentence, away from its marks ("Zelensky said on
    Wednesday that Kyiv needed “…”"): the nearest before it, else the nearest after it."""
    at = bisect.bisect_right(breaks, quote.start)
    start = breaks[at - 1] if at else 0
    at = bisect.bisect_left(breaks, quote.end)
    end = breaks[at] if at < len(breaks) else len(text)
    before = [c for c in cues.starting(start - _CUE_REACH, quote.start)
              if start <= c[2] and c[3] <= quote.start and c[1] <= quote.start]
    if before:
        cue = max(before, key=lambda c: (c[1], c[3]))
        return None if _CONTINUATION.search(text, cue[1], quote.start) else cue
    after = [c for c in cues.starting(quote.end, end) if c[1] <= end]
    return min(after, key=lambda c: (c[0], c[2]), default=None)


class _Cues:
    """The cues sorted by where they start, to find those in a stretch of text without reading them all
    (an article of a million characters has thousands of quotes and cues)."""

    def __init__(self, cues: list[tuple]):
        self.cues = sorted(cues)
        self.starts = [c[0] for c in self.cues]

    def starting(self, start: int, end: int) -> list[tuple]:
        """The cues that start in `[start, end]`."""
        return self.cues[bisect.bisect_left(self.starts, start):bisect.bisect_right(self.starts, end)]


# A cue beside a quote stands within this many characters of its marks (a comma, a colon, "إن");
# cues farther away are not looked at for it.
_BESIDE_REACH = 64
# No cue is longer than its name and what comes before it: a name of eight words and its verb.
_CUE_REACH = 400


def _inside(spans: list[tuple[int, int]], starts: list[int], start: int, end: int) -> bool:
    """Whether `[start, end)` lies within one of `spans` (sorted, not overlapping)."""
    i = bisect.bisect_right(starts, start) - 1
    return i >= 0 and end <= spans[i][1]


def _strictly_inside(spans: list[tuple[int, int]], starts: list[int], at: int) -> bool:
    """Whether `at` falls strictly between one of `spans`' start and end."""
    i = bisect.bisect_left(starts, at) - 1
    return i >= 0 and at < spans[i][1]


def speakers(text: str, found_quotes: list[Proposal] | None = None) -> list[Speaker]:
    """Speaker mentions, each with the quotes it is named as saying.

    A quote gets one speaker: the cue right beside its marks (the one after it first: "“…,” Lavrov
    said"), else the cue its sentence names it in. A name cued twice (by two patterns) is proposed once."""
    found_quotes = quotes(text) if found_quotes is None else found_quotes
    spans = sorted((q.start, q.end) for q in found_quotes)
    starts = [start for start, _ in spans]
    # A name inside a quote is someone the speaker talks about, not the speaker.
    cues = _Cues([c for c in _cues(text) if not _inside(spans, starts, c[2], c[3])])
    said_by: dict[Proposal, tuple] = {}
    for quote in found_quotes:
        near = cues.starting(quote.start - _BESIDE_REACH - _CUE_REACH, quote.end + _BESIDE_REACH)
        beside = sorted((_BESIDE_FIRST[side], c[2], c) for c in near if (side := _beside(text, quote, c)))
        if beside:
            said_by[quote] = beside[0][2]
    # A full stop inside a quote ends no sentence of the text around it.
    breaks = [m.end() for m in _SENTENCE_BREAK.finditer(text) if not _strictly_inside(spans, starts, m.end())]
    for quote in found_quotes:
        if quote not in said_by:
            cue = _sentence_cue(text, quote, cues, breaks)
            if cue is not None:
                said_by[quote] = cue
    quotes_of: dict[tuple[int, int], list[Proposal]] = {}
    for quote, cue in said_by.items():
        quotes_of.setdefault((cue[2], cue[3]), []).append(quote)
    score_of: dict[tuple[int, int], float] = {}
    for cue in cues.cues:
        score_of[(cue[2], cue[3])] = max(cue[4], score_of.get((cue[2], cue[3]), 0))
    result = []
    for (start, end), score in sorted(score_of.items()):
        said = tuple(sorted(quotes_of.get((start, end), []), key=lambda q: q.start))
        # A name named as saying a quote is more surely a speaker.
        score = min(1.0, score + 0.15) if said else score
        result.append(Speaker("speaker", start, end, text[start:end], round(score, 3), quotes=said))
    return result


# --- topics --------------------------------------------------------------------------------

_AR_PREFIX = r"(?:و|ف|ب|ل|ك|ال|وال|بال|فال|لل|كال|ول|وب)?"


def keyword_list(keywords: str) -> list[str]:
    return [k.strip() for k in regex.split(r"[,\n،]", keywords or "") if k.strip()]


def _keyword_pattern(keyword: str) -> str:
    stem = keyword.rstrip("*")
    body = r"\s+".join(regex.escape(part) for part in stem.split())
    prefix = _AR_PREFIX if regex.match(r"\p{Arabic}", stem) else ""
    ending = r"[\p{L}\p{M}]*" if keyword.endswith("*") else ""
    return rf"(?<![\p{{L}}\p{{M}}]){prefix}{body}{ending}(?![\p{{L}}\p{{M}}])"


def topics(text: str, keywords: dict[str, str]) -> list[tuple[str, float, int]]:
    """(topic, score, keyword hits) for each topic whose keywords occur; more hits, more sure."""
    result = []
    for topic, words in keywords.items():
        patterns = [_keyword_pattern(k) for k in keyword_list(words)]
        if not patterns:
            continue
        hits = len(regex.findall("|".join(patterns), text, flags=regex.IGNORECASE))
        if hits:
            result.append((topic, round(1 - 0.5**hits, 3), hits))
    return result
