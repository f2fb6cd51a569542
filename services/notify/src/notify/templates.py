"""Versioned message templates: rendering with strict personalisation, SMS signature and segments."""

from __future__ import annotations

import functools
import html
import math
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

SMS_SIGNATURE = "【婺城政务服务】"
# A UCS-2 SMS holds 70 characters; each part of a concatenated one 67 (the UDH takes the rest).
SMS_SINGLE = 70
SMS_PART = 67


class TemplateError(Exception):
    """A template cannot be rendered: unknown, or personalisation missing. Retrying will not help."""


class UnknownTemplate(TemplateError):
    def __init__(self, name: str, version: int | None = None) -> None:
        which = name if version is None else f"{name} v{version}"
        super().__init__(f"模板不存在 (unknown template): {which}")


class MissingPersonalisation(TemplateError):
    def __init__(self, template: str, fields: Iterable[str]) -> None:
        self.fields = sorted(fields)
        super().__init__(
            f"模板 {template} 缺少个性化字段 (missing personalisation): {', '.join(self.fields)}"
        )


@dataclass(frozen=True)
class Template:
    """One version of a template. `text` serves the inbox, push and the e-mail's text part.

    `sms` is the SMS wording (without the signature, which is added); `html` is the e-mail's HTML
    body, where every value is HTML-escaped.
    """

    name: str
    version: int
    title: str
    text: str
    sms: str
    html: str | None = None

    def fields(self) -> frozenset[str]:
        return _fields(self.title, self.text, self.sms, self.html or "")


@dataclass(frozen=True)
class Rendered:
    title: str
    body: str
    html: str | None
    segments: int | None


def sms_segments(text: str) -> int:
    """Parts an SMS needs in UCS-2 (characters beyond the BMP count twice, as UTF-16 units)."""
    units = len(text.encode("utf-16-le")) // 2
    return 1 if units <= SMS_SINGLE else math.ceil(units / SMS_PART)


@functools.cache
def _fields(*parts: str) -> frozenset[str]:
    """The personalisation fields `parts` name (parsed once per wording: rendering is per message)."""
    return frozenset(f for part in parts for _, f, _, _ in string.Formatter().parse(part) if f)


def _fill(template: Template, part: str, values: Mapping[str, str]) -> str:
    missing = _fields(part) - values.keys()
    if missing:
        raise MissingPersonalisation(f"{template.name} v{template.version}", missing)
    return part.format_map(values)


def _html(template: Template, values: Mapping[str, str]) -> str:
    escaped = {k: html.escape(v) for k, v in values.items()}
    if template.html is not None:
        return _fill(template, template.html, escaped)
    paragraphs = "".join(f"<p>{html.escape(line)}</p>" for line in template.text.splitlines() if line)
    return (
        '<!doctype html><html lang="zh-CN"><meta charset="utf-8">'
        f"<h1>{html.escape(template.title)}</h1>{_fill(template, paragraphs, escaped)}"
        f"<p>{html.escape(SMS_SIGNATURE)}</p></html>"
    )


def render(template: Template, channel: str, values: Mapping[str, str]) -> Rendered:
    """Render for one channel; every field the template names must be given (no empty strings)."""
    missing = template.fields() - set(values)
    if missing:
        raise MissingPersonalisation(f"{template.name} v{template.version}", missing)
    title = _fill(template, template.title, values)
    if channel == "sms":
        text = SMS_SIGNATURE + _fill(template, template.sms, values)
        return Rendered(title=title, body=text, html=None, segments=sms_segments(text))
    body = _fill(template, template.text, values)
    if channel == "email":
        return Rendered(
            title=title, body=f"{body}\n\n{SMS_SIGNATURE}", html=_html(template, values), segments=None
        )
    return Rendered(title=title, body=body, html=None, segments=None)


class TemplateLibrary:
    """Every version of every template; new messages use the latest version of a name."""

    def __init__(self, templates: Iterable[Template]) -> None:
        self._by_key: dict[tuple[str, int], Template] = {}
        for template in templates:
            if (template.name, template.version) in self._by_key:
                raise ValueError(f"duplicate template {template.name} v{template.version}")
            self._by_key[(template.name, template.version)] = template

    def latest(self, name: str) -> Template:
        versions = [t for (n, _), t in self._by_key.items() if n == name]
        if not versions:
            raise UnknownTemplate(name)
        return max(versions, key=lambda t: t.version)

    def get(self, name: str, version: int) -> Template:
        try:
            return self._by_key[(name, version)]
        except KeyError:
            raise UnknownTemplate(name, version) from None

    def all(self) -> list[Template]:
        return sorted(self._by_key.values(), key=lambda t: (t.name, t.version))
