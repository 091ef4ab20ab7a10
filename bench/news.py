"""Deterministic news-like items in English and Arabic with their gold spans (Quote, Source, Claim),
for scoring the span model on something it can learn (`bench.workload`'s spans are random).

Each item is a few paragraphs of wire-style reporting: direct quotes in the marks each language's
agencies use (“ ” in English; « » and “ ” in Arabic, with the occasional straight "), attributed
before or after with the cue verbs and word orders real reports use ("said X", "X told
reporters", "according to X"; قال X إن, وأكد X أن, ونقلت وكالة … عن X قوله, وبحسب X), indirect
claims ("X said that …", "X أن …"), background sentences with no span, and scare quotes (a
one-word “peace plan” that is not a quotation) as hard negatives.

Gold follows `fixtures/suggestions/heldout.jsonl`'s conventions (a Quote is the text inside the
marks; a Source is the speaker's mention with its title; a Claim is the reported clause after
"that"/أن, up to the sentence's end, not including its full stop). Names, places and clauses are
drawn from lists, the people's names from first × last names, so an item's words are rarely all
seen in training. This is not the held-out corpus of fixtures/suggestions, which stays unseen.

    python -m bench.news --items 3 --seed 1     # print a few, to read
"""

import argparse
import json
import random

FIRST = ["Sergei", "Maria", "John", "Emmanuel", "Olaf", "Recep", "Nikol", "Ilham", "Antony", "Josep", "Ursula",
         "Hakan", "Ali", "Dmitry", "Geir", "Vassily", "Linda", "Annalena", "Mevlut", "Jake", "Catherine", "Ahmed",
         "Faisal", "Ayman", "Hossein", "Kaja", "Rafael", "Volodymyr", "Andriy", "Jens", "Mark", "Charles"]
LAST = ["Lavrov", "Zakharova", "Kirby", "Macron", "Scholz", "Erdogan", "Pashinyan", "Aliyev", "Blinken", "Borrell",
        "von der Leyen", "Fidan", "Larijani", "Peskov", "Pedersen", "Nebenzia", "Thomas-Greenfield", "Baerbock",
        "Cavusoglu", "Sullivan", "Colonna", "Safadi", "bin Farhan", "Abdelatty", "Amir-Abdollahian", "Kallas",
        "Grossi", "Zelensky", "Yermak", "Stoltenberg", "Rutte", "Michel"]
TITLES = ["Foreign Minister", "Defence Minister", "Kremlin spokesman", "Prime Minister", "President",
          "State Department spokesman", "Secretary of State", "the EU's foreign policy chief", "UN envoy",
          "Deputy Foreign Minister", "National Security Adviser", "the ambassador"]
BODIES = ["the foreign ministry", "the Kremlin", "the State Department", "the United Nations", "NATO officials",
          "the defence ministry", "European diplomats", "the Syrian Observatory for Human Rights", "state media",
          "the International Atomic Energy Agency", "the presidential office", "Western officials"]
OUTLETS = ["Reuters", "TASS", "AFP", "the Associated Press", "RIA Novosti", "Al Jazeera", "Interfax"]
PLACES = ["Moscow", "Yerevan", "Baku", "Tehran", "Damascus", "Kyiv", "Geneva", "Vienna", "Brussels", "Ankara",
          "Doha", "Cairo", "Beirut", "Washington", "Istanbul", "Tbilisi"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
ACTORS = ["the West", "Washington", "NATO", "Moscow", "Tehran", "the European Union", "Kyiv", "Baku", "Yerevan",
          "the international community", "our partners", "the other side"]
VERBS = ["is not ready to", "must", "will", "has refused to", "is trying to", "cannot", "has agreed to",
         "is preparing to", "should", "wants to"]
ACTS = ["resume the talks", "lift the sanctions", "withdraw its troops", "sign the agreement", "respect the ceasefire",
        "return to the negotiating table", "reopen the border", "guarantee the security of civilians",
        "recognise the new borders", "release the prisoners", "stop the shelling", "honour its commitments"]
TAILS = ["", "", " within weeks", " before the end of the year", " without preconditions", " as soon as possible",
         " under any circumstances", " in the coming days"]
BACKGROUND = ["The talks in {place} ended on {day} without an agreement.",
              "More than {n} people have been displaced since the fighting began.",
              "The meeting in {place} was the first of its kind since {year}.",
              "Trade between the two countries fell by {n} per cent last year.",
              "Officials did not give further details.",
              "The so-called “{scare}” has been criticised by both sides.",
              "Delegations from {n} countries attended the summit in {place}."]
SCARE = ["peace plan", "road map", "red lines", "special operation", "reset"]

AR_FIRST = ["سيرغي", "ماريا", "نيكول", "إلهام", "أنتوني", "جوزيب", "هاكان", "علي", "دميتري", "أحمد", "فيصل",
            "أيمن", "حسين", "رافائيل", "فولوديمير", "ينس"]
AR_LAST = ["لافروف", "زاخاروفا", "باشينيان", "علييف", "بلينكن", "بوريل", "فيدان", "لاريجاني", "بيسكوف", "الصفدي",
           "بن فرحان", "عبد العاطي", "غروسي", "زيلينسكي", "ستولتنبرغ", "عراقجي"]
AR_TITLES = ["وزير الخارجية الروسي", "المتحدث باسم الكرملين", "رئيس الوزراء الأرميني", "الرئيس الأذربيجاني",
             "وزير الخارجية الأمريكي", "مسؤول السياسة الخارجية في الاتحاد الأوروبي", "وزير الخارجية التركي",
             "المبعوث الأممي", "وزير الخارجية الأردني", "مدير الوكالة الدولية للطاقة الذرية"]
AR_BODIES = ["وزارة الخارجية", "الكرملين", "الأمم المتحدة", "المرصد السوري لحقوق الإنسان", "مصادر دبلوماسية",
             "وزارة الدفاع", "الرئاسة"]
AR_OUTLETS = ["رويترز", "تاس", "سانا", "الأناضول", "فرانس برس"]
AR_PLACES = ["موسكو", "يريفان", "باكو", "طهران", "دمشق", "كييف", "جنيف", "فيينا", "أنقرة", "الدوحة", "القاهرة"]
AR_ACTORS = ["الغرب", "واشنطن", "حلف الناتو", "موسكو", "طهران", "الاتحاد الأوروبي", "المجتمع الدولي", "الطرف الآخر"]
AR_VERBS = ["لن", "يجب أن", "يسعى إلى أن", "يرفض أن", "مستعد لأن", "لا يستطيع أن"]
AR_ACTS = ["يستأنف المحادثات", "يرفع العقوبات", "يسحب قواته", "يوقع الاتفاق", "يحترم وقف إطلاق النار",
           "يعود إلى طاولة المفاوضات", "يفتح الحدود", "يضمن أمن المدنيين", "يفرج عن الأسرى", "يفي بالتزاماته"]
AR_TAILS = ["", "", " خلال أسابيع", " قبل نهاية العام", " دون شروط مسبقة", " في أقرب وقت ممكن"]
AR_BACKGROUND = ["وانتهت المحادثات في {place} يوم أمس دون التوصل إلى اتفاق.",
                 "ونزح أكثر من {n} شخص منذ بدء القتال.",
                 "ولم يقدم المسؤولون مزيداً من التفاصيل.",
                 "وشارك في القمة ممثلون عن {n} دولة."]


class Item:
    """Text built piece by piece; a labelled piece records its span."""

    def __init__(self):
        self.parts: list[str] = []
        self.length = 0
        self.spans: list[dict] = []

    def add(self, text: str, label: str | None = None) -> None:
        if label is not None:
            self.spans.append({"label": label, "start": self.length, "end": self.length + len(text), "text": text})
        self.parts.append(text)
        self.length += len(text)

    def text(self) -> str:
        return "".join(self.parts)


def _clause(rng: random.Random) -> str:
    return f"{rng.choice(ACTORS)} {rng.choice(VERBS)} {rng.choice(ACTS)}{rng.choice(TAILS)}"


SYLLABLES = ["ka", "ro", "mi", "zan", "tel", "os", "va", "dri", "gu", "len", "bar", "shi", "no", "ev", "ath"]
AR_SYLLABLES = ["كا", "رو", "مي", "زان", "تل", "وس", "فا", "دري", "غو", "لين", "بار", "شي", "نو"]


def _made_up(rng: random.Random, syllables: list[str]) -> str:
    """A name no list holds: most people in the news are named once."""
    return "".join(rng.choice(syllables) for _ in range(rng.randint(2, 3)))


def _name(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    return f"{_made_up(rng, SYLLABLES).capitalize()} {_made_up(rng, SYLLABLES).capitalize()}"


def _speaker(rng: random.Random) -> str:
    roll = rng.random()
    name = _name(rng)
    if roll < 0.45:
        return f"{rng.choice(TITLES)} {name}"
    if roll < 0.75:
        return name
    return rng.choice(BODIES)


def _start(text: str) -> str:
    return text[0].upper() + text[1:]


def english_paragraph(rng: random.Random, item: Item) -> None:
    for k in range(rng.randint(1, 3)):
        if k:
            item.add(" ")
        pattern = rng.randrange(10)
        quote = _start(_clause(rng))
        speaker = _speaker(rng)
        day, place = rng.choice(DAYS), rng.choice(PLACES)
        if pattern == 0:  # “…,” X said on Monday.
            item.add("“"); item.add(quote, "Quote"); item.add(",” ")
            item.add(speaker, "Source")
            item.add(f" {rng.choice(['said', 'told reporters', 'said in a statement'])} on {day}.")
        elif pattern == 1:  # “…,” said X.
            item.add("“"); item.add(quote, "Quote"); item.add(",” said "); item.add(speaker, "Source"); item.add(".")
        elif pattern == 2:  # X said: “….”
            item.add(_start(speaker), "Source")
            item.add(f" {rng.choice(['said', 'told', 'wrote', 'added'])}{' ' + rng.choice(OUTLETS) if rng.random() < 0.3 else ''}: “")
            item.add(quote + ".", "Quote"); item.add("”")
        elif pattern == 3:  # According to X, claim.
            item.add("According to "); item.add(speaker, "Source"); item.add(", "); item.add(_clause(rng), "Claim")
            item.add(".")
        elif pattern == 4:  # X said on Monday that claim.
            item.add(_start(speaker), "Source")
            item.add(f" {rng.choice(['said', 'warned', 'insisted', 'claimed'])} on {day} that ")
            item.add(_clause(rng), "Claim"); item.add(".")
        elif pattern == 5:  # X told Reuters in Geneva that “…”.
            item.add(_start(speaker), "Source"); item.add(f" told {rng.choice(OUTLETS)} in {place} that “")
            item.add(_clause(rng), "Quote"); item.add("”.")
        elif pattern == 6:  # The UN envoy, X, warned that claim, adding: “…”
            item.add(f"{rng.choice(['The', 'A'])} {rng.choice(['senior', 'visiting', 'former'])} "
                     f"{rng.choice(['envoy', 'diplomat', 'official', 'negotiator'])}, ")
            item.add(_name(rng), "Source"); item.add(", warned that "); item.add(_clause(rng), "Claim")
            item.add(", adding: “"); item.add(_start(_clause(rng)) + ".", "Quote"); item.add("”")
        elif pattern == 7:  # Yerevan would “reconsider its membership”, X said. (a partial quote)
            item.add(f"{rng.choice(ACTORS).capitalize()} would “")
            item.add(rng.choice(["reconsider its membership", "not back down", "respond in kind", "act decisively"]),
                     "Quote")
            item.add("”, "); item.add(_speaker(rng), "Source"); item.add(f" said in {place}.")
        elif pattern == 8:  # “…,” X said. “…”
            item.add("“"); item.add(quote, "Quote"); item.add(",” "); item.add(_start(speaker), "Source")
            item.add(" said. “"); item.add(_start(_clause(rng)) + ".", "Quote"); item.add("”")
        else:
            item.add(rng.choice(BACKGROUND).format(place=place, day=day, n=rng.randint(2, 900),
                                                   year=rng.randint(1990, 2022), scare=rng.choice(SCARE)))


def _ar_speaker(rng: random.Random) -> str:
    roll = rng.random()
    name = (f"{rng.choice(AR_FIRST)} {rng.choice(AR_LAST)}" if rng.random() < 0.5
            else f"{_made_up(rng, AR_SYLLABLES)} {_made_up(rng, AR_SYLLABLES)}")
    if roll < 0.5:
        return f"{rng.choice(AR_TITLES)} {name}"
    if roll < 0.8:
        return name
    return rng.choice(AR_BODIES)


def _ar_clause(rng: random.Random) -> str:
    return f"{rng.choice(AR_ACTORS)} {rng.choice(AR_VERBS)} {rng.choice(AR_ACTS)}{rng.choice(AR_TAILS)}"


def arabic_paragraph(rng: random.Random, item: Item) -> None:
    for k in range(rng.randint(1, 3)):
        if k:
            item.add(" ")
        pattern = rng.randrange(6)
        opener, closer = rng.choice([("«", "»"), ("«", "»"), ("“", "”"), ('"', '"')])
        if pattern == 0:  # وقال X إن «…».
            item.add(rng.choice(["وقال ", "قال ", "وأضاف "])); item.add(_ar_speaker(rng), "Source")
            item.add(f" إن {opener}"); item.add(_ar_clause(rng), "Quote"); item.add(f"{closer}.")
        elif pattern == 1:  # وأكد X أن claim.
            item.add(rng.choice(["وأكد ", "وأعلن ", "واعتبر "])); item.add(_ar_speaker(rng), "Source")
            item.add(" أن "); item.add(_ar_clause(rng), "Claim"); item.add(".")
        elif pattern == 2:  # ونقلت وكالة … عن X قوله: «…».
            item.add(f"ونقلت وكالة {rng.choice(AR_OUTLETS)} عن "); item.add(_ar_speaker(rng), "Source")
            item.add(f" قوله: {opener}"); item.add(_ar_clause(rng), "Quote"); item.add(f"{closer}.")
        elif pattern == 3:  # وبحسب X، فإن claim.
            item.add("وبحسب "); item.add(_ar_speaker(rng), "Source"); item.add("، فإن ")
            item.add(_ar_clause(rng), "Claim"); item.add(".")
        elif pattern == 4:  # «…»، قال X.
            item.add(opener); item.add(_ar_clause(rng), "Quote"); item.add(f"{closer}، قال ")
            item.add(_ar_speaker(rng), "Source"); item.add(".")
        else:
            item.add(rng.choice(AR_BACKGROUND).format(place=rng.choice(AR_PLACES), n=rng.randint(2, 900)))


def _as_analysts_label(rng: random.Random, spans: list[dict]) -> list[dict]:
    """Gold as people make it: now and then a span missed (5 %), a speaker's title left out of
    the Source (15 % of those with one)."""
    kept = []
    for span in spans:
        if rng.random() < 0.05:
            continue
        title = next((t for t in TITLES + AR_TITLES if span["text"].startswith(t + " ")), None)
        if span["label"] == "Source" and title and rng.random() < 0.15:
            cut = len(title) + 1
            span = {**span, "start": span["start"] + cut, "text": span["text"][cut:]}
        kept.append(span)
    return kept


def items(n: int, seed: int = 1, arabic_share: float = 0.3):
    """`n` items (dicts with text, language and gold spans), the same for the same arguments."""
    for number in range(n):
        rng = random.Random(f"news-{seed}-{number}")
        arabic = rng.random() < arabic_share
        item = Item()
        for k in range(rng.randint(3, 7)):
            if k:
                item.add("\n")
            (arabic_paragraph if arabic else english_paragraph)(rng, item)
        text = item.text()
        item.spans = _as_analysts_label(rng, item.spans)
        for span in item.spans:
            assert text[span["start"] : span["end"]] == span["text"]
        yield {"title": f"News {number}", "text": text, "language": "ar" if arabic else "en", "spans": item.spans}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    for item in items(args.items, args.seed):
        print(json.dumps(item, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
