"""Random text for the generator: prose with one-letter words, accents,
digits and punctuation; headlines with abbreviations; receipt lines; dates.
Everything is drawn from the caller's ``numpy.random.Generator``."""

from __future__ import annotations

import numpy as np

_WORDS = """
the of and to in is that for it as was with be by on not he this are or his from at which but
have an they you were her she there been one all we their has would when if so no will more can
out up what about into than them only some could time these two may then do first any my now such
like our over man even most made after also did many before must through back years where much
your way well down should because each just those people how too little state good very make world
still own see men work long get here between both life being under never day same another know
while last might great old year off come since against go came right used take three report paper
office page third hospital it its fifth shift fifty official difficult effect affair staff traffic
inquiry justice quiet union minimum initial finish edition division visit license citizen
""".split()
_ACCENTED = ("café", "naïve", "résumé", "Málaga", "über", "façade", "señor", "Zürich", "crème",
             "déjà", "Ångström", "élève", "piñata", "Köln", "São", "Gödel", "fiancée", "rôle", "Bogotá")
_ONE_LETTER = ("a", "a", "a", "I", "a", "A", "I", "à", "y", "o", "e")
_CAPS = ("The", "In", "A", "It", "Our", "This", "When", "Its", "After", "Mr.", "Dr.", "St.")
_ABBREV = ("R.H.A.S.", "U.K.", "U.S.A.", "ffy.", "Co.", "Ltd.", "No.", "Vol.", "e.g.", "i.e.",
           "a.m.", "p.m.", "St.", "Dr.", "Inc.", "etc.", "B.B.C.", "N.Y.", "Jr.", "vs.")
_HEAD = ("Annual Show", "Results", "Prices", "Fair", "Report", "Election", "Market", "Weather",
         "Final", "Notice", "Sale", "Meeting", "Hospital", "Third Division", "Minutes", "Index",
         "Fifth Edition", "Official", "Traffic", "Justice")
_ITEMS = ("COFFEE", "TEA", "BREAD ROLL", "MILK 1L", "SUGAR", "EGGS", "RICE 5KG", "SOAP", "CHIPS",
          "APPLE", "NOODLES", "WATER", "BATTERY AA", "PEN", "TISSUE", "KOPI O", "TEH", "ROTI",
          "MEE GORENG", "NASI LEMAK", "CHICKEN", "SALT", "OIL 2L", "FLOUR")


def pick(rng: np.random.Generator, seq):
    return seq[int(rng.integers(len(seq)))]


def number(rng: np.random.Generator) -> str:
    r = rng.random()
    if r < 0.3:
        return str(int(rng.integers(0, 10)))
    if r < 0.6:
        return f"{rng.uniform(0, 100):.2f}"
    if r < 0.75:
        return f"{int(rng.integers(1000, 99999)):,}"
    if r < 0.85:
        return f"-{rng.uniform(0, 50):.1f}"
    if r < 0.93:
        return f"{int(rng.integers(1, 100))}%"
    return f"0.{int(rng.integers(0, 100)):02d}"


def date(rng: np.random.Generator) -> str:
    d, m, y = int(rng.integers(1, 29)), int(rng.integers(1, 13)), int(rng.integers(1990, 2030))
    return pick(rng, (f"{d:02d}/{m:02d}/{y}", f"{d}.{m}.{y % 100:02d}", f"{y}-{m:02d}-{d:02d}", f"{d:02d}-{m:02d}-{y}"))


def word(rng: np.random.Generator) -> str:
    r = rng.random()
    if r < 0.06:
        return pick(rng, _ONE_LETTER)
    if r < 0.10:
        return pick(rng, _ACCENTED)
    if r < 0.13:
        return number(rng)
    if r < 0.15:
        return pick(rng, _ABBREV)
    return pick(rng, _WORDS)


def sentence(rng: np.random.Generator) -> str:
    n = int(rng.integers(5, 16))
    words = [pick(rng, _CAPS)] + [word(rng) for _ in range(n)]
    for i in range(1, len(words) - 1):
        r = rng.random()
        if r < 0.08:
            words[i] += ","
        elif r < 0.10:
            words[i] += ";"
        elif r < 0.12:
            words[i] += ":"
        elif r < 0.14:
            words[i] = f"({words[i]})"
        elif r < 0.16:
            words[i] = f"\u201c{words[i]}\u201d"
        elif r < 0.18:
            words[i] = words[i] + "-" + pick(rng, _WORDS)
    end = pick(rng, (".", ".", ".", ".", "?", "!", "...", ":"))
    if words[-1].endswith("."):
        end = ""
    return " ".join(words) + end


def paragraph(rng: np.random.Generator) -> str:
    return " ".join(sentence(rng) for _ in range(int(rng.integers(2, 6))))


def headline(rng: np.random.Generator) -> str:
    r = rng.random()
    a, h = pick(rng, _ABBREV), pick(rng, _HEAD)
    if r < 0.25:
        return f"{a} {h}"
    if r < 0.45:
        return f"{h}: {pick(rng, _WORDS).title()} {pick(rng, _ABBREV)}"
    if r < 0.6:
        return f"{h} {pick(rng, ('ffy.', 'No. ' + str(int(rng.integers(1, 99))), 'Vol. ' + str(int(rng.integers(1, 30)))))}"
    if r < 0.75:
        return f"It is {pick(rng, ('third', 'fifth', 'first'))} in {pick(rng, ('hospital', 'division', 'it'))}!"
    if r < 0.9:
        return f"{pick(rng, _CAPS)} {h.lower()}: {number(rng)} {pick(rng, _WORDS)}?"
    return f"{a} {h} {date(rng)}"


def receipt_item(rng: np.random.Generator) -> tuple[str, str]:
    """(left part, right-aligned amount) of one receipt line."""
    qty = int(rng.integers(1, 10))
    price = rng.uniform(0.1, 30.0)
    item = pick(rng, _ITEMS)
    left = pick(rng, (f"{qty} x {item}", f"{item}", f"{qty}  {item}", f"{item} @{price:.2f}"))
    return left, f"{qty * price:.2f}"
