"""Words for people, by how they relate to the visitor (plain Python: the spaCy context rules
and the screen's answer reading share them).

Vitiligo counts in blood family only, so a step-parent, an in-law or an adoptive relative is
someone else's family: NON_BLOOD marks a family word as not related by blood.
"""

from __future__ import annotations

SELF = {"i", "me", "myself", "im", "i'm", "i've", "ive", "i'd", "we", "us"}
FAMILY = {
    "mum", "mom", "mother", "mam", "mummy", "mommy", "dad", "father", "daddy", "sister", "brother",
    "siblings", "sibling", "grandmother", "grandma", "granny", "nan", "nana", "grandfather",
    "grandpa", "grandparents", "grandparent", "aunt", "auntie", "aunty", "uncle", "cousin", "son",
    "daughter", "family", "relative", "relatives", "parents", "parent", "twin", "runs", "genetic",
    "hereditary", "mums", "moms", "dads", "niece", "nephew",
}  # fmt: skip
OTHERS = {
    "husband", "wife", "partner", "boyfriend", "girlfriend", "friend", "friends", "colleague",
    "neighbour", "neighbor", "she", "he", "they", "her", "his", "him", "people", "person", "someone",
    "somebody", "anyone", "anybody", "women", "woman", "men", "man", "patients", "patient",
    "clients", "those", "diabetics", "you", "bf", "gf", "hubby", "fiance", "fiancé", "mate",
    "customers", "ladies", "mothers", "mums-to-be", "ex", "coworker", "colleagues", "flatmate",
    "housemate", "boss", "spouse",
    # relatives by marriage or adoption: family, but not blood
    "stepmum", "stepmom", "stepdad", "stepfather", "stepmother", "stepsister", "stepbrother",
    "stepson", "stepdaughter", "stepparent", "stepkids",
}  # fmt: skip
# In a clause about a relative, these make them family by marriage or adoption, not by blood:
# "step dad", "mother-in-law", "adoptive mum", "my adopted sister", "we're not related".
NON_BLOOD = {"step", "law", "in-law", "inlaw", "in-laws", "inlaws", "adopted", "adoptive", "foster", "related"}
