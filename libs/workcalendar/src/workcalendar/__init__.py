"""The Chinese working-day calendar (statutory holidays and 调休 make-up days) as data."""

from workcalendar.calendar import Calendar, default_calendar

__all__ = ["Calendar", "default_calendar"]
