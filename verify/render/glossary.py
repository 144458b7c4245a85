"""The words every renderer shares: one-sentence glosses, short region ids and the one rule for
when a number is shown as an exact fraction.

Markdown, HTML, the terminal summary and the pictures explain the same notions in the same words
and show values by the same rule, so a reader who learns them once can read every output.
"""

from __future__ import annotations

from fractions import Fraction

PATTERN_GLOSS = ("A pattern such as 10|01 says which hidden neurons are active at each input step: one group "
                 "of d bits per step, 1 = active (positive pre-activation), 0 = off, steps separated by |.")
TIE_GLOSS = ("The tie measure is the probability that two logits are equal and maximal, identically on a cone "
             "(e.g. every neuron off); torch.argmax then picks the first index.")
STRICT_GLOSS = "The strict error rate is the error rate when every such tie also counts as an error."
RATE_GLOSS = ("Probabilities are under i.i.d. standard normal inputs; since regions are cones through the "
              "origin, each is an exact angle (n = 2) or solid angle (n = 3) over the whole circle or sphere, "
              "and for n = 4, 5 a sum of normal orthant probabilities enclosed by certified quadrature "
              "(certified-quadrature-4d / -5d).")
MARGIN_GLOSS = ("The margin of a counterexample is logit[predicted] - logit[expected] at the point, divided by "
                "its largest |x_i| (logits are positively homogeneous, so this does not depend on the scale).")

MAX_EXACT_DIGITS = 6  # numerator and denominator of a fraction shown exactly have at most this many digits
DISPLAY_DIGITS = 6  # significant digits of a value shown as a decimal
EXACT_RULE = (f"A value is shown as an exact fraction when its numerator and denominator both have at most "
              f"{MAX_EXACT_DIGITS} digits; otherwise as a decimal rounded to {DISPLAY_DIGITS} significant digits "
              "and marked ≈. Every exact value is in report.json.")


def region_id(index: int) -> str:
    """The short id of region `index` in pictures and tables ('R3'), its pattern in a legend."""
    return f"R{index}"


def short_fraction(exact: str) -> bool:
    """Whether the rational string `exact` ('p/q' or 'p') is shown exactly under EXACT_RULE."""
    value = Fraction(exact)
    return len(str(abs(value.numerator))) <= MAX_EXACT_DIGITS and len(str(value.denominator)) <= MAX_EXACT_DIGITS


def show_value(exact: str) -> str:
    """A rational string by EXACT_RULE: '3/4', '-1', or '≈0.123457'."""
    if short_fraction(exact):
        return str(Fraction(exact))
    return f"≈{float(Fraction(exact)):.{DISPLAY_DIGITS}g}"


def show_float(value: float, digits: int = DISPLAY_DIGITS) -> str:
    """A float (a display value, never exact) with `digits` significant digits."""
    return f"{value:.{digits}g}"
