"""Schedule expressions of EventBridge Scheduler (`cron(...)`, `rate(...)`), checked field by field,
and their Kubernetes CronJob equivalent.

The format is EventBridge Scheduler's ("Schedule types on EventBridge Scheduler", EventBridge
Scheduler User Guide): `rate(value unit)` with a positive whole value and the unit minute(s),
hour(s) or day(s) (singular for 1); `cron(minutes hours day-of-month month day-of-week year)`,
six fields, in which one of day-of-month and day-of-week is `?`. One-time `at(...)` schedules do
not repeat, so a training schedule cannot be one.
"""

from __future__ import annotations

import re

_RATE = re.compile(r"^rate\((?P<value>\d+) (?P<unit>minutes?|hours?|days?)\)$")
_CRON = re.compile(r"^cron\((?P<body>[^()]*)\)$")
# Allowed characters per cron field (EventBridge Scheduler, "Cron expressions").
_CRON_FIELDS = (
    ("minutes", r"[0-9,\-*/]+", 0, 59),
    ("hours", r"[0-9,\-*/]+", 0, 23),
    ("day-of-month", r"[0-9,\-*?/LW]+", 1, 31),
    ("month", r"([0-9,\-*/]|JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)+", 1, 12),
    ("day-of-week", r"([0-9,\-*?/L#]|SUN|MON|TUE|WED|THU|FRI|SAT)+", 1, 7),
    ("year", r"[0-9,\-*/]+", 1970, 2199),
)
EXAMPLES = "e.g. 'rate(7 days)' or 'cron(0 3 ? * MON *)' (03:00 UTC every Monday)"


def problem(expression: str) -> str | None:
    """Why `expression` is not a recurring EventBridge Scheduler expression, or None."""
    text = expression.strip()
    if text != expression:
        return f"'{expression}' has leading or trailing spaces; {EXAMPLES}"
    if text.startswith("at("):
        return f"'{expression}' is a one-time schedule; training repeats: {EXAMPLES}"
    if text.startswith("rate("):
        return _rate_problem(text)
    if text.startswith("cron("):
        return _cron_problem(text)
    return f"'{expression}' is neither rate(...) nor cron(...); {EXAMPLES}"


def _rate_problem(text: str) -> str | None:
    m = _RATE.match(text)
    if m is None:
        return f"'{text}' is not rate(value unit) with unit minute(s), hour(s) or day(s); e.g. 'rate(7 days)'"
    value, unit = int(m["value"]), m["unit"]
    if value < 1:
        return f"'{text}': the value must be a positive whole number"
    if (value == 1) != (not unit.endswith("s")):
        right = unit.rstrip("s") if value == 1 else f"{unit}s"
        return f"'{text}': EventBridge Scheduler wants '{right}' with the value {value}; write 'rate({value} {right})'"
    return None


def _cron_problem(text: str) -> str | None:
    m = _CRON.match(text)
    if m is None:
        return f"'{text}' is not cron(minutes hours day-of-month month day-of-week year); {EXAMPLES}"
    fields = m["body"].split()
    if len(fields) != 6:
        return (
            f"'{text}' has {len(fields)} fields; EventBridge Scheduler's cron has 6: minutes hours "
            f"day-of-month month day-of-week year; {EXAMPLES}"
        )
    for value, (name, pattern, low, high) in zip(fields, _CRON_FIELDS, strict=True):
        if not re.fullmatch(pattern, value):
            return f"'{text}': {name} '{value}' is not a valid {name} field"
        for number in re.findall(r"(?<![/#])\b\d+\b", value):
            if not low <= int(number) <= high:
                return f"'{text}': {name} {number} is outside {low}-{high}"
    dom, dow = fields[2], fields[4]
    if (dom == "?") == (dow == "?"):
        return f"'{text}': exactly one of day-of-month ('{dom}') and day-of-week ('{dow}') must be '?'; {EXAMPLES}"
    return None


def kubernetes_schedule(expression: str) -> str | None:
    """The CronJob schedule (5 fields, UTC) that runs like `expression`, or None when it has no
    exact equivalent (a rate that does not divide the hour or day, a year, L/W/# specials)."""
    m = _RATE.match(expression)
    if m is not None:
        value, unit = int(m["value"]), m["unit"].rstrip("s")
        if unit == "minute" and 60 % value == 0:
            return "* * * * *" if value == 1 else f"*/{value} * * * *"
        if unit == "hour" and 24 % value == 0:
            return "0 * * * *" if value == 1 else f"0 */{value} * * *"
        if unit == "day" and value == 1:
            return "0 0 * * *"
        return None
    m = _CRON.match(expression)
    if m is None:
        return None
    minutes, hours, dom, month, dow, year = m["body"].split()
    if year != "*" or any(c in f"{dom}{dow}" for c in "LW#"):
        return None
    # EventBridge numbers days of the week 1-7 from Sunday; a CronJob 0-6 from Sunday.
    dow = re.sub(r"\d", lambda d: str(int(d.group()) - 1), dow)
    return " ".join((minutes, hours, "*" if dom == "?" else dom, month, "*" if dow == "?" else dow))
