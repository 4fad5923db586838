"""Exercise cases of the chapter 'bits_and_bytes' for tests/book/test_student.py.

WRONG: plausible wrong answers each check must call "Not yet" (and not the stub's message).
ALSO_RIGHT: other correct answers each check must call "Correct".
Keys: the exercise's first answer name (a function's name for a function body); a value
is the text that replaces the solution region (a tuple of texts, one per region).
"""

from __future__ import annotations

WRONG: dict[str, list[str | tuple[str, ...]]] = {
    "format_limits": [
        "bias = 2 ** (e - 1)\n"  # the bias off by one
        "return (2 - 2.0**-m) * 2.0**bias, 2.0 ** (1 - bias), 2.0 ** (1 - bias - m), 2.0**-m",
        "bias = 2 ** (e - 1) - 1\n"  # the fraction bits of the largest number forgotten
        "return 2.0**bias, 2.0 ** (1 - bias), 2.0 ** (1 - bias - m), 2.0**-m",
        "bias = 2 ** (e - 1) - 1\n"  # the unit roundoff for epsilon
        "return (2 - 2.0**-m) * 2.0**bias, 2.0 ** (1 - bias), 2.0 ** (1 - bias - m), 2.0 ** (-m - 1)",
    ],
    "scale_exponents": [
        "nonzero = np.abs(g[g != 0])\n"  # the smallest normal number as the threshold
        "k_min = int(np.ceil(np.log2(2.0**-14 / nonzero.min())))\n"
        "k_max = int(np.floor(np.log2(65504 / nonzero.max())))\n"
        "return k_min, k_max",
        "nonzero = np.abs(g[g != 0])\n"  # swapped
        "k_min = int(np.ceil(np.log2(2.0**-24 / nonzero.min())))\n"
        "k_max = int(np.floor(np.log2(65504 / nonzero.max())))\n"
        "return k_max, k_min",
        "nonzero = np.abs(g[g != 0])\n"  # rounded the wrong way
        "k_min = int(np.floor(np.log2(2.0**-24 / nonzero.min())))\n"
        "k_max = int(np.floor(np.log2(65504 / nonzero.max())))\n"
        "return k_min, k_max",
    ],
    "best_segment_length": [
        "return round(np.sqrt(n * c / a))",  # the continuous optimum, rounded
        "return int(np.sqrt(n))",  # the sqrt(n) rule, ignoring a and c
        "divisors = [k for k in range(1, n + 1) if n % k == 0]\n"  # ties to the larger k
        "return min(divisors, key=lambda k: (n / k * c + k * a, -k))",
    ],
}

ALSO_RIGHT: dict[str, list[str | tuple[str, ...]]] = {
    "format_limits": [
        "bias = 2 ** (e - 1) - 1\n"
        "return [2.0**bias * (2 - 2.0**-m), 2.0**-(bias - 1), 2.0**-(bias - 1) * 2.0**-m, 2.0**-m]",
    ],
    "scale_exponents": [
        "a = np.abs(g)\nsmall, big = a[a > 0].min(), a.max()\n"
        "k_min = -24 - int(np.floor(np.log2(small)))\n"  # exact for non-powers of 2
        "return k_min, int(np.floor(np.log2(65504 / big)))",
    ],
    "best_segment_length": [
        "best = None\nfor k in range(1, n + 1):\n"
        "    if n % k == 0 and (best is None or n / k * c + k * a < n / best * c + best * a):\n"
        "        best = k\nreturn best",
    ],
}
