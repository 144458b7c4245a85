"""Colours by meaning, the same in every picture and in the HTML report.

From Okabe and Ito's palette, chosen to stay distinguishable with the common forms of colour
blindness: correct is light blue, misclassified vermillion, tie yellow; unexplored is light grey
with hatching and undecided (a region found whose claim a budget left open) a darker grey, so the
two greys differ in pattern as well as lightness.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Meaning:
    key: str
    label: str
    colour: str
    hatch: str = ""


CORRECT = Meaning("correct", "correct", "#9fd3f0")
MISCLASSIFIED = Meaning("misclassified", "misclassified", "#d55e00")
TIE = Meaning("tie", "tie (right only by argmax's first-index rule)", "#f0e442")
UNEXPLORED = Meaning("unexplored", "unexplored (search stopped before it)", "#dddddd", "///")
UNDECIDED = Meaning("undecided", "region found, claim undecided", "#999999", "xx")
MEANINGS = (CORRECT, MISCLASSIFIED, TIE, UNEXPLORED, UNDECIDED)

EDGE = "#000000"  # region boundaries
DECISION = "#0072b2"  # decision rays (Delta = 0): Okabe-Ito blue, dashed
DIAGONAL = "#555555"  # x_i = x_j, where the right answer changes
