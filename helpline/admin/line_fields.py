"""Form fields for a line's structured settings, so a manager never edits JSON.

Each field turns a few plain inputs into the JSON the line stores, and back:

- ``LanguageListField``: "en, fr, sw" for ``languages`` (the first is the default);
- ``PhrasesByLanguageField``: one text box per language, one phrase per line, for ``risk_phrases``;
- ``SurveyField``: the post-contact survey, a small builder (questions with their text in
  each language and their choices, one per line);
- ``WeeklyHoursField``: a grid of the seven days with two (or more) opening ranges each;
- ``OpeningExceptionsField``: dated closures and special hours (helpline.hours).

The inputs a widget renders depend on the line's languages (``widget.languages``),
which the form sets; their names are ``<field>_<language>`` or ``<field>-<row>-<part>``.
Bad input gets an error naming the row and what is wrong, and the inputs keep what was typed.
"""

import re
from datetime import date, time

from django import forms
from django.core.exceptions import ValidationError
from django.utils.text import slugify
from django.utils.translation import get_language_info
from django.utils.translation import gettext_lazy as _

from helpline.hours import WEEKDAYS

LANGUAGE_CODE = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{2,8})*")
MAX_PHRASE_LENGTH = 100
MAX_PHRASES_PER_LANGUAGE = 500
MAX_QUESTIONS = 5
EXTRA_QUESTIONS = 2
MAX_CHOICES = 9  # an SMS answer is one digit
MAX_QUESTION_LENGTH = 300
MAX_CHOICE_LENGTH = 40
QUESTION_ID = re.compile(r"[a-z0-9_-]{1,40}")
MIN_RANGES_PER_DAY = 2
EXTRA_EXCEPTIONS = 2
MAX_EXCEPTIONS = 100
MAX_NOTE_LENGTH = 80
MAX_ROWS_READ = 200  # a posted row count larger than this is not our form

DAY_NAMES = {
    "mon": _("Monday"),
    "tue": _("Tuesday"),
    "wed": _("Wednesday"),
    "thu": _("Thursday"),
    "fri": _("Friday"),
    "sat": _("Saturday"),
    "sun": _("Sunday"),
}


def language_name(code: str) -> str:
    try:
        return str(get_language_info(code)["name_translated"])
    except KeyError:
        return code


def _row_count(data, name: str) -> int:
    try:
        return max(0, min(int(data.get(name, 0)), MAX_ROWS_READ))
    except (TypeError, ValueError):
        return 0


def _squash(text) -> str:
    return " ".join(str(text or "").split())


class StructuredWidget(forms.Widget):
    """A widget of several inputs: the value is a structure, not a string, and no one input is "the" input."""

    languages: list[str]

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.languages = []

    def format_value(self, value):
        return value

    def value_omitted_from_data(self, data, files, name):
        return False

    def id_for_label(self, id_):
        # Each input has its own label; the field's label names the group.
        return None


class StructuredField(forms.Field):
    def has_changed(self, initial, data):
        try:
            return self.clean(data) != (initial or self.empty())
        except ValidationError:
            return True

    def empty(self):
        raise NotImplementedError


# --- languages -------------------------------------------------------------------------


class LanguageListField(forms.CharField):
    """Language codes separated by commas ("en, fr, sw") <-> ["en", "fr", "sw"]."""

    def prepare_value(self, value):
        if isinstance(value, list):
            return ", ".join(value)
        return value

    def to_python(self, value):
        if isinstance(value, list):
            return value
        codes = []
        for code in re.split(r"[\s,;]+", str(value or "").strip().lower()):
            if code and code not in codes:
                codes.append(code)
        return codes

    def validate(self, value):
        if not value and self.required:
            raise ValidationError(_("Give at least one language, such as en."), code="required")
        wrong = [code for code in value if not LANGUAGE_CODE.fullmatch(code)]
        if wrong:
            raise ValidationError(
                _("%(codes)s: a language code is two or three letters, such as en, fr or sw.")
                % {"codes": ", ".join(f"“{code}”" for code in wrong)}
            )

    def has_changed(self, initial, data):
        return self.to_python(data) != (initial or [])


def languages_for_form(*, form, field_name: str = "languages") -> list[str]:
    """The languages a line form shows inputs for: what is saved, what was just typed, and
    every language that already has phrases or survey texts (so nothing typed is dropped)."""
    codes = []
    instance = form.instance
    typed = form.data.get(form.add_prefix(field_name)) if form.is_bound else None
    candidates = list(instance.languages or [])
    if typed is not None:
        candidates = [*LanguageListField().to_python(typed), *candidates]
    candidates += list((instance.risk_phrases or {}).keys())
    candidates += list((instance.safety_message or {}).keys())
    for question in instance.survey or []:
        candidates += list((question.get("text") or {}).keys())
    for code in candidates:
        if LANGUAGE_CODE.fullmatch(code) and code not in codes:
            codes.append(code)
    return codes or ["en"]


# --- risk phrases ----------------------------------------------------------------------


class PhrasesByLanguageWidget(StructuredWidget):
    template_name = "helpline/admin/widgets/phrases_by_language.html"

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        value = value or {}
        base_id = (attrs or {}).get("id") or f"id_{name}"
        context["widget"]["rows"] = [
            {
                "code": code,
                "language": language_name(code),
                "name": f"{name}_{code}",
                "id": f"{base_id}_{code}",
                "text": "\n".join(value.get(code, [])) if isinstance(value.get(code), list) else value.get(code, ""),
            }
            for code in self.languages
        ]
        return context

    def value_from_datadict(self, data, files, name):
        return {code: data.get(f"{name}_{code}", "") for code in self.languages}


class PhrasesByLanguageField(StructuredField):
    """{"en": ["kill myself", ...], "sw": [...]}; a language with no phrases is left out."""

    widget = PhrasesByLanguageWidget

    def empty(self):
        return {}

    def to_python(self, value):
        result = {}
        for code, text in (value or {}).items():
            lines = text if isinstance(text, list) else str(text).splitlines()
            phrases, seen = [], set()
            for line in lines:
                phrase = _squash(line)
                if phrase and phrase.casefold() not in seen:
                    seen.add(phrase.casefold())
                    phrases.append(phrase)
            if phrases:
                result[code] = phrases
        return result

    def validate(self, value):
        errors = []
        for code, phrases in value.items():
            name = language_name(code)
            too_long = [phrase for phrase in phrases if len(phrase) > MAX_PHRASE_LENGTH]
            if too_long:
                errors.append(
                    _("%(language)s: a phrase is at most %(limit)d characters; “%(start)s…” is longer.")
                    % {"language": name, "limit": MAX_PHRASE_LENGTH, "start": too_long[0][:30]}
                )
            if len(phrases) > MAX_PHRASES_PER_LANGUAGE:
                errors.append(
                    _("%(language)s: at most %(limit)d phrases.")
                    % {"language": name, "limit": MAX_PHRASES_PER_LANGUAGE}
                )
        if errors:
            raise ValidationError(errors)


class TextByLanguageWidget(PhrasesByLanguageWidget):
    """One text per language; each input's label names the field too, so it differs from the phrases' inputs."""

    template_name = "helpline/admin/widgets/text_by_language.html"
    row_label = ""

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["row_label"] = self.row_label
        return context


class TextByLanguageField(StructuredField):
    """{"en": "one text", "fr": "..."}: a message written per language; an empty one is left out."""

    widget = TextByLanguageWidget

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.widget.row_label = self.label or ""

    max_length = 1000

    def empty(self):
        return {}

    def to_python(self, value):
        result = {}
        for code, text in (value or {}).items():
            text = "\n".join(text) if isinstance(text, list) else str(text or "")
            text = "\n".join(line.rstrip() for line in text.strip().splitlines())
            if text:
                result[code] = text
        return result

    def validate(self, value):
        too_long = [code for code, text in value.items() if len(text) > self.max_length]
        if too_long:
            raise ValidationError(
                _("%(language)s: at most %(limit)d characters.")
                % {"language": language_name(too_long[0]), "limit": self.max_length}
            )


# --- the post-contact survey -------------------------------------------------------------


class SurveyWidget(StructuredWidget):
    template_name = "helpline/admin/widgets/survey.html"

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        rows = [self._row(item) for item in (value or [])]
        if rows and "raw" not in rows[0]:
            # A saved survey: room for new questions under it.
            rows += [self._row(None) for _ in range(max(0, min(EXTRA_QUESTIONS, MAX_QUESTIONS - len(rows))))]
        elif not rows:
            rows = [self._row(None) for _ in range(EXTRA_QUESTIONS)]
        base_id = (attrs or {}).get("id") or f"id_{name}"
        for index, row in enumerate(rows):
            prefix = f"{name}-{index}"
            row.update(number=index + 1, prefix=prefix, id_prefix=f"{base_id}-{index}")
            row["texts"] = [
                {
                    "code": code,
                    "language": language_name(code),
                    "name": f"{prefix}-text-{code}",
                    "id": f"{base_id}-{index}-text-{code}",
                    "value": row["text_by_code"].get(code, ""),
                }
                for code in self.languages
            ]
        context["widget"].update(rows=rows, count_name=f"{name}-rows", count=len(rows))
        return context

    @staticmethod
    def _row(item) -> dict:
        if item is None:
            return {"id": "", "text_by_code": {}, "choices": "", "delete": False, "saved": False}
        if "raw" in item:  # typed into the form, shown again with an error
            return {**item, "saved": bool(item["id"])}
        return {
            "id": item.get("id", ""),
            "text_by_code": dict(item.get("text") or {}),
            "choices": "\n".join(item.get("choices") or []),
            "delete": False,
            "saved": True,
        }

    def value_from_datadict(self, data, files, name):
        rows = []
        for index in range(_row_count(data, f"{name}-rows")):
            prefix = f"{name}-{index}"
            rows.append(
                {
                    "raw": True,
                    "id": data.get(f"{prefix}-id", ""),
                    "text_by_code": {code: data.get(f"{prefix}-text-{code}", "") for code in self.languages},
                    "choices": data.get(f"{prefix}-choices", ""),
                    "delete": bool(data.get(f"{prefix}-delete")),
                }
            )
        return rows


class SurveyField(StructuredField):
    """[{"id": "helped", "text": {"en": "Did this help?"}, "choices": ["yes", "a little", "no"]}]."""

    widget = SurveyWidget
    default_language = "en"

    def empty(self):
        return []

    def to_python(self, value):
        questions, errors = [], []
        for number, row in enumerate(value or [], start=1):
            if "raw" not in row:  # already the stored shape
                questions.append(row)
                continue
            if row["delete"]:
                continue
            texts = {code: _squash(text) for code, text in row["text_by_code"].items() if _squash(text)}
            choices = [_squash(line) for line in str(row["choices"]).splitlines() if _squash(line)]
            if not texts and not choices:
                continue  # an empty slot
            errors += self._row_errors(number, texts, choices)
            questions.append({"id": _squash(row["id"]).lower(), "text": texts, "choices": choices})
        if len(questions) > MAX_QUESTIONS:
            errors.append(
                _("A survey has at most %(limit)d questions: children answer after a hard conversation.")
                % {"limit": MAX_QUESTIONS}
            )
        if errors:
            raise ValidationError(errors)
        self._name_questions(questions)
        return questions

    def _row_errors(self, number, texts, choices) -> list:
        errors = []
        where = _("Question %(number)d") % {"number": number}
        if not texts.get(self.default_language):
            errors.append(
                _("%(where)s: write it in %(language)s, the line's first language.")
                % {"where": where, "language": language_name(self.default_language)}
            )
        if any(len(text) > MAX_QUESTION_LENGTH for text in texts.values()):
            errors.append(
                _("%(where)s: keep it under %(limit)d characters.") % {"where": where, "limit": MAX_QUESTION_LENGTH}
            )
        if len(choices) < 2:
            errors.append(_("%(where)s: give at least two choices, one per line.") % {"where": where})
        if len(choices) > MAX_CHOICES:
            errors.append(
                _("%(where)s: at most %(limit)d choices (by SMS the child answers with one digit).")
                % {"where": where, "limit": MAX_CHOICES}
            )
        if len({choice.casefold() for choice in choices}) != len(choices):
            errors.append(_("%(where)s: each choice appears once.") % {"where": where})
        if any(len(choice) > MAX_CHOICE_LENGTH for choice in choices):
            errors.append(
                _("%(where)s: a choice is at most %(limit)d characters.") % {"where": where, "limit": MAX_CHOICE_LENGTH}
            )
        return errors

    def _name_questions(self, questions) -> None:
        """Keep saved questions' names (answers are counted under them); name new ones from their text."""
        taken = {question["id"] for question in questions if question["id"]}
        for number, question in enumerate(questions, start=1):
            if question["id"] and QUESTION_ID.fullmatch(question["id"]):
                continue
            base = slugify(question["text"].get(self.default_language, ""))[:32] or f"q{number}"
            name, suffix = base, 2
            while name in taken:
                name, suffix = f"{base}-{suffix}", suffix + 1
            taken.add(name)
            question["id"] = name


# --- opening hours ---------------------------------------------------------------------


def _time_or_error(text: str, *, where) -> str:
    try:
        return time.fromisoformat(text).strftime("%H:%M")
    except ValueError:
        raise ValidationError(
            _("%(where)s: “%(text)s” is not a time (use 24-hour HH:MM).") % {"where": where, "text": text[:10]}
        ) from None


def _range_or_errors(start: str, end: str, *, where, errors: list) -> list[str] | None:
    start, end = (start or "").strip(), (end or "").strip()
    if not start and not end:
        return None
    if not start or not end:
        errors.append(_("%(where)s: give both the opening and the closing time.") % {"where": where})
        return None
    try:
        pair = [_time_or_error(start, where=where), _time_or_error(end, where=where)]
    except ValidationError as error:
        errors.extend(error.messages)
        return None
    if pair[0] == pair[1] and pair[0] != "00:00":
        errors.append(
            _("%(where)s: opening and closing are the same time (00:00 to 00:00 is the whole day).") % {"where": where}
        )
        return None
    return pair


class WeeklyHoursWidget(StructuredWidget):
    template_name = "helpline/admin/widgets/weekly_hours.html"

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        value = value or {}
        ranges = max([MIN_RANGES_PER_DAY, *(len(value.get(day) or []) for day in WEEKDAYS)])
        base_id = (attrs or {}).get("id") or f"id_{name}"
        days = []
        for day in WEEKDAYS:
            saved = list(value.get(day) or [])
            cells = []
            for index in range(ranges):
                start, end = saved[index] if index < len(saved) else ("", "")
                cells.append(
                    {
                        "number": index + 1,
                        "start": start,
                        "end": end,
                        "start_name": f"{name}-{day}-{index}-start",
                        "end_name": f"{name}-{day}-{index}-end",
                        "start_id": f"{base_id}-{day}-{index}-start",
                        "end_id": f"{base_id}-{day}-{index}-end",
                    }
                )
            days.append({"code": day, "name": DAY_NAMES[day], "cells": cells})
        context["widget"].update(days=days, ranges=range(1, ranges + 1), count_name=f"{name}-ranges", count=ranges)
        return context

    def value_from_datadict(self, data, files, name):
        ranges = _row_count(data, f"{name}-ranges") or MIN_RANGES_PER_DAY
        return {
            day: [
                [data.get(f"{name}-{day}-{index}-start", ""), data.get(f"{name}-{day}-{index}-end", "")]
                for index in range(ranges)
            ]
            for day in WEEKDAYS
        }


class WeeklyHoursField(StructuredField):
    """{"mon": [["08:00", "20:00"]], ...}; every day empty means always open (helpline.hours)."""

    widget = WeeklyHoursWidget

    def empty(self):
        return {}

    def to_python(self, value):
        hours, errors = {}, []
        for day in WEEKDAYS:
            pairs = []
            for start, end in (value or {}).get(day) or []:
                pair = _range_or_errors(start, end, where=DAY_NAMES[day], errors=errors)
                if pair:
                    pairs.append(pair)
            if pairs:
                hours[day] = sorted(pairs)
        if errors:
            raise ValidationError(errors)
        return hours


class OpeningExceptionsWidget(StructuredWidget):
    template_name = "helpline/admin/widgets/opening_exceptions.html"

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        rows = [self._row(item) for item in (value or [])]
        if not rows or "raw" not in rows[0]:
            rows += [self._row(None) for _ in range(EXTRA_EXCEPTIONS)]
        base_id = (attrs or {}).get("id") or f"id_{name}"
        for index, row in enumerate(rows):
            row.update(number=index + 1, prefix=f"{name}-{index}", id_prefix=f"{base_id}-{index}")
        context["widget"].update(rows=rows, count_name=f"{name}-rows", count=len(rows))
        return context

    @staticmethod
    def _row(item) -> dict:
        if item is None:
            return {"from": "", "to": "", "start": "", "end": "", "note": "", "delete": False, "saved": False}
        if "raw" in item:
            return item
        hours = (item.get("hours") or [["", ""]])[0]
        return {
            "from": item.get("from", ""),
            "to": item.get("to", "") if item.get("to") != item.get("from") else "",
            "start": hours[0],
            "end": hours[1],
            "note": item.get("note", ""),
            "delete": False,
            "saved": True,
        }

    def value_from_datadict(self, data, files, name):
        rows = []
        for index in range(_row_count(data, f"{name}-rows")):
            prefix = f"{name}-{index}"
            row = {part: data.get(f"{prefix}-{part}", "") for part in ("from", "to", "start", "end", "note")}
            rows.append(
                {
                    **row,
                    "raw": True,
                    "saved": bool(data.get(f"{prefix}-saved")),
                    "delete": bool(data.get(f"{prefix}-delete")),
                }
            )
        return rows


class OpeningExceptionsField(StructuredField):
    """[{"from": "2025-12-25", "to": "2025-12-26", "hours": [], "note": "Christmas"}], sorted by date."""

    widget = OpeningExceptionsWidget

    def empty(self):
        return []

    def to_python(self, value):
        exceptions, errors = [], []
        for number, row in enumerate(value or [], start=1):
            if "raw" not in row:
                exceptions.append(row)
                continue
            if row["delete"] or not any(_squash(row[part]) for part in ("from", "to", "start", "end", "note")):
                continue
            where = _("Exception %(number)d") % {"number": number}
            exception = self._exception(row, where=where, errors=errors)
            if exception:
                exceptions.append(exception)
        if len(exceptions) > MAX_EXCEPTIONS:
            errors.append(_("At most %(limit)d exceptions; remove past ones.") % {"limit": MAX_EXCEPTIONS})
        if errors:
            raise ValidationError(errors)
        return sorted(exceptions, key=lambda exception: exception["from"])

    @staticmethod
    def _exception(row, *, where, errors: list) -> dict | None:
        try:
            first = date.fromisoformat(row["from"].strip())
        except ValueError:
            errors.append(_("%(where)s: give its first date.") % {"where": where})
            return None
        last = first
        if row["to"].strip():
            try:
                last = date.fromisoformat(row["to"].strip())
            except ValueError:
                errors.append(_("%(where)s: the last date is not a date.") % {"where": where})
                return None
            if last < first:
                errors.append(_("%(where)s: the last date comes before the first.") % {"where": where})
                return None
        note = _squash(row["note"])
        if len(note) > MAX_NOTE_LENGTH:
            errors.append(
                _("%(where)s: keep the note under %(limit)d characters.") % {"where": where, "limit": MAX_NOTE_LENGTH}
            )
            return None
        count = len(errors)
        pair = _range_or_errors(row["start"], row["end"], where=where, errors=errors)
        if len(errors) > count:
            return None
        exception = {"from": first.isoformat(), "hours": [pair] if pair else [], "note": note}
        if last != first:
            exception["to"] = last.isoformat()
        return exception
