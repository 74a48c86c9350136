"""Near spellings of one word: "Markel" for "Merkel", "jounalist" for "journalist"."""

from __future__ import annotations


def one_edit_apart(a: str, b: str, swaps: bool = False) -> bool:
    """True if `a` and `b` differ by one substitution, insertion or deletion (with `swaps`, also
    by two neighbouring letters swapped: "jounralist")."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b)) if x != y]
        return len(diff) == 1 or (swaps and len(diff) == 2 and diff[1] == diff[0] + 1
                                  and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))
