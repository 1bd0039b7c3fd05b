"""One checker for every number a student gives (a widget, a table cell, a file, a link), and one way to print it.

`check_number` validates a value that is already a number; `check_value` does the same for a value at a
place (a table cell, a field of a file) and names the place; `parse_number` reads one typed as text
("2e3", "1,5", "−0.3", "1e309" is refused); `json_number` reads a file's numbers keeping their text;
`format_number` prints any float readably.
"""
import math
import re
from numbers import Integral, Real

# Longest number text we read: a 5000-digit integer must get a message, not Python's int-size error.
MAX_NUMBER_TEXT = 64
_MINUS_SIGNS = "\u2212\u2012\u2013\u2014\ufe63\uff0d"  # the typographic minus signs students paste
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


class WrittenNumber(float):
    """A float that remembers how it was written (in a file or a cell), so a message can quote it as typed."""

    text: str

    def __new__(cls, value, text: str):
        number = super().__new__(cls, value)
        number.text = text
        return number


def json_number(text: str) -> WrittenNumber:
    """A `json.loads(parse_int=..., parse_float=...)` hook: no int-size limit, no OverflowError; 1e400 reads as inf."""
    return WrittenNumber(float(text), text)  # float() of digit text has no length limit and never raises here


def is_number(value) -> bool:
    """True for int, float and NumPy numbers; False for bool (True is not 1 to a student) and everything else."""
    return isinstance(value, Real) and not isinstance(value, bool)


def format_number(value: float, digits: int = 4, *, significant: bool = False) -> str:
    """`digits` decimals for ordinary sizes, scientific notation for very large or very small ones; never '-0'.

    With `significant`, `digits` significant digits instead (1.3, 0.902538, 1e+308, 3.72008e-42), as `%g` does.
    """
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    if significant:
        return f"{value + 0.0:.{digits}g}"  # + 0.0 turns -0.0 into 0.0
    if value == 0:
        return f"{0:.{digits}f}"
    if abs(value) >= 1e6 or abs(value) < 10.0 ** -digits:
        return f"{value:.{max(digits - 1, 1)}e}"
    text = f"{value:.{digits}f}"
    return text[1:] if re.fullmatch(r"-0\.0*", text) else text


def shown(value) -> str:
    """How a rejected value is quoted back: a number as the student wrote it, anything else short."""
    if isinstance(value, WrittenNumber):
        text = value.text
        digits = sum(c.isdigit() for c in text)
        return text if len(text) <= 40 else f"a number of {digits} digits"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, Integral):
        bits = int(value).bit_length()  # str() of a 5000-digit integer raises, so count digits from the bits
        return str(value) if bits < 200 else f"an integer of about {math.floor(bits * math.log10(2)) + 1} digits"
    if is_number(value):
        return repr(float(value))
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "…"


def _range_text(low: float, high: float, low_open: bool, high_open: bool, interval: bool = False) -> str:
    def fmt(x):
        return f"{int(x):,}" if float(x).is_integer() and abs(x) < 1e15 else f"{x:g}"
    if low > -math.inf and high < math.inf:
        if not (low_open or high_open or interval):
            return f"between {fmt(low)} and {fmt(high)}"
        return f"in {'(' if low_open else '['}{fmt(low)}, {fmt(high)}{')' if high_open else ']'}"
    if low > -math.inf:
        return f"{'above' if low_open else 'at least'} {fmt(low)}"
    if high < math.inf:
        return f"{'below' if high_open else 'at most'} {fmt(high)}"
    return ""


def check_number(value, what: str, *, low: float = -math.inf, high: float = math.inf, low_open: bool = False,
                 high_open: bool = False, integer: bool = False, interval: bool = False,
                 error: type[Exception] = ValueError):
    """Return `value` as a float (an int when `integer`) if it is a finite number in range; else raise `error`.

    The message names `what`, says the allowed range (as an interval such as [0, 1] when `interval`), and quotes
    the value as given, e.g. "The learning rate must be a number above 0; got -1."
    """
    kind = "a whole number" if integer else "a number"
    limits = _range_text(low, high, low_open, high_open, interval)
    rule = f"{what} must be {kind}{' ' + limits if limits else ''}"
    if not is_number(value) or (integer and not (isinstance(value, Integral) or float(value).is_integer())):
        raise error(f"{rule}; got {shown(value)}.")
    try:
        as_float = float(value)
    except OverflowError:  # an integer beyond 1.8e308
        raise error(f"{rule}; got {shown(value)}, which is too large.") from None
    if not math.isfinite(as_float):
        raise error(f"{rule}; got {shown(value)}, which is not an ordinary finite number.")
    number = int(value) if integer else as_float
    if (number < low or number > high or (low_open and number == low) or (high_open and number == high)):
        raise error(f"{rule}; got {shown(value)}.")
    return number


def check_value(value, where: str, *, low: float = -math.inf, high: float = math.inf,
                error: type[Exception] = ValueError) -> float:
    """A number at a place (a cell, a field of a file) as a float; else `error` naming the place and quoting the value.

    e.g. "Layer 2, weights row 1, column 2: 'abc' is not a number." or "Inputs, position 1: 1000001 is too large;
    keep numbers between -1,000,000 and 1,000,000." Text is refused (a file should hold the number itself).
    """
    if value is None:
        raise error(f"{where} is empty.")
    if isinstance(value, str):
        try:
            parse_number(value)
        except ValueError:
            raise error(f"{where}: {shown(value)} is not a number.") from None
        raise error(f"{where}: {shown(value)} is text; write the number without quotes.")
    if not is_number(value):
        raise error(f"{where}: {shown(value)} is not a number.")
    try:
        number = float(value)
    except OverflowError:  # an integer beyond 1.8e308
        number = math.inf if value > 0 else -math.inf
    else:
        if math.isnan(number):
            raise error(f"{where} is empty or not a number (NaN).")
        if math.isinf(number) and not isinstance(value, (WrittenNumber, Integral)):
            raise error(f"{where}: {'inf' if number > 0 else '-inf'} is infinite; use an ordinary number.")
    limits = _range_text(low, high, False, False)
    if number > high:
        raise error(f"{where}: {shown(value)} is too large; keep numbers {limits}.")
    if number < low:
        raise error(f"{where}: {shown(value)} is too small; keep numbers {limits}.")
    if not math.isfinite(number):
        raise error(f"{where}: {shown(value)} is too large for a computer's floating-point numbers (the largest is "
                    f"about 1.8e308).")
    return number


def parse_number(text, what: str = "This value", *, error: type[Exception] = ValueError) -> float:
    """Read a number typed as text: '2e3' is 2000, '1,5' is 1.5, a pasted '−2' is -2; anything else raises `error`.

    Numbers too large for a float (1e309, a 400-digit integer) are refused with a message, never rounded to inf.
    """
    if is_number(text):
        return check_number(text, what, error=error)
    if not isinstance(text, str):
        raise error(f"{what}: {shown(text)} is not a number.")
    cleaned = text.strip().replace("\u00a0", "").replace(" ", "").replace("_", "")
    for sign in _MINUS_SIGNS:
        cleaned = cleaned.replace(sign, "-")
    if cleaned.count(",") == 1 and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")  # a decimal comma
    if not cleaned:
        raise error(f"{what} is empty; type a number.")
    if len(cleaned) > MAX_NUMBER_TEXT:
        raise error(f"{what}: a number of {len(cleaned)} characters is far too long; type at most "
                    f"{MAX_NUMBER_TEXT} (use scientific notation, e.g. 2e3 for 2000).")
    if not _NUMBER.fullmatch(cleaned):
        quoted = text.strip() if len(text.strip()) <= 40 else text.strip()[:37] + "…"
        raise error(f"{what}: '{quoted}' is not a number (write e.g. 0.5, -2, 1,5 or 2e3).")
    number = float(cleaned)
    if not math.isfinite(number):
        raise error(f"{what}: {text.strip()} is too large for a computer's floating-point numbers (the largest is "
                    f"about 1.8e308).")
    return number
