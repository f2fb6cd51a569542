"""Chinese government identifiers: resident ID numbers, credit codes, item codes."""
